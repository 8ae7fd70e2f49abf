/**
 * What this data directory remembers about the network, in `<dataDir>/network-state.json`
 * (mode 0600): the PCP nonce (a PCP mapping can only be renewed or deleted with the nonce that
 * made it), the mappings currently requested (written *before* each request, so a run killed
 * with SIGKILL leaves a record the next start cleans up), whether the router refused low ports,
 * and whether the firewall instructions were shown. No addresses are kept.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { MappingProtocol } from './types.ts';

export const NETWORK_STATE_FILE = 'network-state.json';

export interface RecordedMapping {
  label: 'https' | 'http';
  internalPort: number;
  externalPort: number;
}

export interface NetworkState {
  version: 1;
  /** 24 hex digits. */
  pcpNonce?: string;
  /** The protocol the last run mapped with, while mappings may exist. */
  protocol?: MappingProtocol;
  /** Mappings that may exist on the router right now. */
  mappings: RecordedMapping[];
  /** The last start saw the router refuse an external port below 1024. */
  lowPortsRefused?: boolean;
  /** The external port each label got at the last start (what doctor looks for). */
  lastExternalPorts?: Partial<Record<'https' | 'http', number>>;
  /** The host firewall instructions were printed once already. */
  firewallInstructionsShown?: boolean;
}

/** Path of the state file in `dataPath`. */
export function networkStatePath(dataPath: string): string {
  return join(dataPath, NETWORK_STATE_FILE);
}

/** Reads the state; a missing or unreadable file is an empty state (never throws). */
export function readNetworkState(dataPath: string): NetworkState {
  const file = networkStatePath(dataPath);
  if (!existsSync(file)) return { version: 1, mappings: [] };
  try {
    const raw = JSON.parse(readFileSync(file, 'utf8')) as Partial<NetworkState>;
    const mappings = Array.isArray(raw.mappings)
      ? raw.mappings.filter((m): m is RecordedMapping => Boolean(m) && Number.isInteger(m.internalPort) && Number.isInteger(m.externalPort) && (m.label === 'https' || m.label === 'http'))
      : [];
    return { ...raw, version: 1, mappings };
  } catch {
    return { version: 1, mappings: [] };
  }
}

/** Writes the state atomically (temp file + rename), so a kill mid-write never leaves half a file. */
export function writeNetworkState(dataPath: string, state: NetworkState): void {
  const file = networkStatePath(dataPath);
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
  renameSync(tmp, file);
}

/** Reads, changes and writes the state in one step. */
export function updateNetworkState(dataPath: string, change: (s: NetworkState) => void): NetworkState {
  const s = readNetworkState(dataPath);
  change(s);
  writeNetworkState(dataPath, s);
  return s;
}
