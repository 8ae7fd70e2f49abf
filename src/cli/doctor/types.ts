/**
 * The contract between `chatroom doctor` and its check groups. Each section (Local, Firewall,
 * Router, Internet, TLS, Calls) is a CheckGroup in its own file under checks/; the runner calls
 * them in that order with one shared DoctorContext, catches anything a group throws (one failing
 * check never stops the others) and renders the lines or the `--json` document.
 * Doctor changes nothing: a group may look (sockets, commands, router queries) but never maps a
 * port, writes a file or starts the server.
 */
import type { ResolvedConfig } from '../../config/schema.ts';

export type CheckStatus = 'ok' | 'warn' | 'fail';

export type DoctorSection = 'local' | 'firewall' | 'router' | 'internet' | 'tls' | 'calls';

/** One line of the report: `✓ title: value`, and under a warn/fail the commands or actions that fix it. */
export interface Check {
  /** Stable dotted id, e.g. `local.port`, `router.mapping.https`, `tls.expiry` (tests and --json rely on it). */
  id: string;
  section: DoctorSection;
  status: CheckStatus;
  /** Short human name, e.g. "HTTPS port". */
  title: string;
  /** What was found, e.g. "8443 is free", "public 203.0.113.7". */
  value: string;
  /** For warn/fail: each entry one exact command or plain-language action, in the order to try them. */
  fix?: string[];
  /** Machine-readable facts for --json (no secrets, no user data). */
  details?: Record<string, unknown>;
}

/** Facts one group finds and a later group uses (e.g. Router finds the external address, Internet and TLS use it). */
export interface DoctorFacts {
  /** This machine's LAN IPv4/IPv6 addresses (not loopback). */
  lanAddresses?: string[];
  /** Whether a chatroom server is listening on config.port right now (then doctor inspects it, else it binds nothing). */
  serverRunning?: boolean;
  /** Active host firewall and whether it lets our ports in. */
  firewall?: { kind: string; allowsPorts: boolean | null };
  /** What the router said, when any mapping protocol answered. */
  router?: {
    protocol: 'pcp' | 'natpmp' | 'upnp-igd2' | 'upnp-igd1' | null;
    externalAddress: string | null;
    externalClass: 'public' | 'cgnat' | 'private' | 'none';
    /** External port → where it points, for our ports, when a mapping exists. */
    mappings: Array<{ protocol: 'tcp'; externalPort: number; internalPort: number; internalClient: string; ours: boolean }>;
    refusesLowPorts?: boolean;
  };
  /** The https URL people outside should use, when one is known (publicUrl, domain or external address). */
  publicUrl?: string;
  /** Whether the HTTP port (for ACME HTTP-01) is reachable from outside, when known. */
  httpPortReachable?: boolean;
}

export interface DoctorContext {
  config: ResolvedConfig;
  /** The --dir folder (holds chatroom.yaml). */
  dir: string;
  /** Usually process.env. */
  env: Record<string, string | undefined>;
  /** Filled in by groups as they run, read by later ones. */
  facts: DoctorFacts;
  /** Per-probe time budget, ms (router queries, connects); a probe that runs out is a warn/fail, not a hang. */
  timeoutMs: number;
}

/** One section's checks. Must not throw for an expected problem: report it as a Check instead. */
export type CheckGroup = (ctx: DoctorContext) => Promise<Check[]>;

/** Final line of the report. */
export type Verdict =
  | { kind: 'internet'; url: string; text: string }
  | { kind: 'lan'; text: string }
  | { kind: 'local'; text: string };

/** The `--json` document (UI-CONTRACT: a `checks` array of {id, status, ...}). */
export interface DoctorReport {
  version: 1;
  checks: Check[];
  verdict: Verdict;
  /** true when no check failed (the exit code is 0 then, else 1). */
  ok: boolean;
}
