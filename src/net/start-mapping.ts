/**
 * What `chatroom start` does about the router once the server listens: map HTTPS (443 → port)
 * and HTTP (80 → httpPort), print the public URL, renew quietly, warn in one line when a renewal
 * fails, and remove everything on close. Addresses go to the operator's terminal only, never to
 * the event log.
 */
import type { EventLog } from '../server/context.ts';
import type { ExternalClass } from './address-class.ts';
import { publicUrlFor } from './public-url.ts';
import { MappingSession, type PortResult, type SessionOptions, type WantedPort } from './session.ts';

export interface StartMappingOptions {
  dataPath: string;
  scheme: 'http' | 'https';
  /** The bound HTTPS (or, with tls off, HTTP) port. */
  port: number;
  /** The bound redirect/ACME port, or null. */
  httpPort: number | null;
  leaseSeconds?: number;
  timeoutMs?: number;
  log: EventLog;
  /** A normal line for the terminal (stdout). */
  say: (line: string) => void;
  /** A one-line warning (stderr). */
  warn: (line: string) => void;
  /** A de-emphasised line (stdout). */
  note: (line: string) => void;
  /** Finds the routers to use (default: this computer's network); see SessionOptions. */
  discover?: SessionOptions['discover'];
}

export interface StartMappingOutcome {
  protocol: string | null;
  publicUrl: string | null;
  externalAddress: string | null;
  externalClass: ExternalClass;
  results: PortResult[];
}

export interface RunningMapping {
  /** Settles when discovery and the first mappings are done (never rejects). */
  ready: Promise<StartMappingOutcome>;
  /** Stops renewals and removes every mapping, also one still being requested. */
  close(): Promise<void>;
}

/** Starts mapping in the background; call close() before exiting. */
export function startPortMapping(opts: StartMappingOptions): RunningMapping {
  const session = new MappingSession({
    dataPath: opts.dataPath,
    leaseSeconds: opts.leaseSeconds,
    timeoutMs: opts.timeoutMs,
    discover: opts.discover,
    events: {
      renewFailed: (label, err) => {
        opts.warn(`Port mapping renewal failed for ${label.toUpperCase()}: ${err.message}; retrying.`);
        opts.log.event('upnp.renew_failed', { kind: label, reason: err.reason });
      },
      renewed: (label, externalPort, lifetimeSeconds) => {
        opts.log.event('upnp.renewed', { kind: label, port: externalPort, lifetimeSeconds });
      },
    },
  });
  const ready = run(session, opts).catch((err: Error): StartMappingOutcome => {
    opts.warn(`Port mapping stopped: ${err.message}. Serving your local network only.`);
    return { protocol: null, publicUrl: null, externalAddress: null, externalClass: 'none', results: [] };
  });
  return { ready, close: () => session.close() };
}

async function run(session: MappingSession, opts: StartMappingOptions): Promise<StartMappingOutcome> {
  const wanted: WantedPort[] = [{ label: 'https', internalPort: opts.port, preferredExternalPort: opts.scheme === 'https' ? 443 : 80 }];
  if (opts.httpPort) wanted.push({ label: 'http', internalPort: opts.httpPort, preferredExternalPort: 80 });
  const empty: StartMappingOutcome = { protocol: null, publicUrl: null, externalAddress: null, externalClass: 'none', results: [] };

  if (!(await session.discover(wanted.map((w) => w.internalPort)))) {
    opts.warn(
      `No port mapping: the router answered none of PCP, NAT-PMP or UPnP. Serving your local network only ` +
        `(turn on UPnP or NAT-PMP in the router, or forward TCP port ${opts.port} to this computer by hand; \`chatroom doctor\` checks).`,
    );
    opts.log.event('upnp.unavailable', {});
    return empty;
  }
  const protocol = session.protocol!;
  const results = await session.mapAll(wanted);
  const https = results.find((r) => r.label === 'https')!;
  const { address, class: externalClass } = await session.externalAddress();

  for (const r of results) {
    if (r.ok) opts.log.event('upnp.mapped', { protocol, kind: r.label, port: r.externalPort, internalPort: r.internalPort, lifetimeSeconds: r.lifetimeSeconds });
    else opts.log.event('upnp.map_failed', { protocol, kind: r.label, reason: r.error.reason });
  }
  if (!https.ok) {
    opts.warn(`Port mapping (${protocol}): ${https.error.message}. Serving your local network only; \`chatroom doctor\` explains what to do.`);
    if (externalClass === 'cgnat' || externalClass === 'private') opts.warn(behindAnotherNat(externalClass, address));
    return { ...empty, protocol, externalAddress: address, externalClass, results };
  }
  const url = address ? publicUrlFor(opts.scheme, address, https.externalPort) : null;
  if (externalClass === 'public' && url) {
    opts.say(`Public:  ${url}`);
  } else {
    opts.warn(
      externalClass === 'none'
        ? `The router forwarded port ${https.externalPort} (${protocol}) but reports no internet address: people outside may not reach it; run \`chatroom doctor\`.`
        : behindAnotherNat(externalClass, address),
    );
  }
  const preferred = opts.scheme === 'https' ? 443 : 80;
  if (https.lowPortRefused) opts.note(`  (the router refused external port ${preferred}, so the public URL carries port ${https.externalPort})`);
  else if (https.preferredTaken) opts.note(`  (the router already forwards external port ${preferred} to another device, so the public URL carries port ${https.externalPort}; \`chatroom doctor\` names it)`);
  const http = results.find((r) => r.label === 'http');
  if (http?.ok) opts.note(`  (HTTP: external port ${http.externalPort} → ${http.internalPort}, for redirects and certificate checks)`);
  else if (http && !http.ok) opts.warn(`HTTP port mapping (${protocol}): ${http.error.message}.`);
  return { protocol, publicUrl: externalClass === 'public' ? url : null, externalAddress: address, externalClass, results };
}

function behindAnotherNat(cls: ExternalClass, address: string | null): string {
  const shown = address ?? 'unknown';
  return cls === 'cgnat'
    ? `The router's internet address ${shown} is a carrier-grade NAT address (100.64.0.0/10): your provider shares it, so nobody outside can reach this server through it. Run \`chatroom doctor\` for the ways out.`
    : `The router's internet address ${shown} is private: there is another router (double NAT) in front of it, which must forward the port too. Run \`chatroom doctor\` for what to do.`;
}
