/**
 * Command-line flags that set config keys. A flag shares its key's name (`--data-dir` ↔
 * `dataDir`); the few short forms (`--tls` ↔ `tls.mode`, `--domain` ↔ `tls.domain`,
 * `--retention` ↔ `retentionDays`, `--cert-file`/`--key-file` ↔ `tls.certFile`/`tls.keyFile`,
 * `--acme-*` ↔ `tls.acme.*`) are listed here and in docs/CLI.md.
 */

export interface ConfigFlag {
  /** Commander spelling, e.g. '--port <n>'. */
  spec: string;
  /** The option's attribute on commander's opts(), e.g. 'dataDir'. */
  attr: string;
  /** The config key it sets, e.g. 'tls.mode'. */
  key: string;
  help: string;
  /** A boolean flag that also gets a `--no-` form. */
  negatable?: boolean;
}

export const CONFIG_FLAGS: ConfigFlag[] = [
  { spec: '--name <text>', attr: 'name', key: 'name', help: 'server name shown in the browser (default "chatroom")' },
  { spec: '--data-dir <path>', attr: 'dataDir', key: 'dataDir', help: 'folder for the database, uploads and certificates, relative to --dir (default ".")' },
  { spec: '--port <n>', attr: 'port', key: 'port', help: 'HTTPS port (default 8443)' },
  { spec: '--http-port <n>', attr: 'httpPort', key: 'httpPort', help: 'HTTP port that redirects to HTTPS; 0 turns it off (default 8080)' },
  { spec: '--host <addr>', attr: 'host', key: 'host', help: 'address to listen on (default 0.0.0.0, all IPv4)' },
  { spec: '--public-url <url>', attr: 'publicUrl', key: 'publicUrl', help: 'address people use from outside, e.g. https://chat.example.org' },
  { spec: '--tls <mode>', attr: 'tls', key: 'tls.mode', help: 'self-signed | acme | files | off (off only with a loopback --host)' },
  { spec: '--domain <name>', attr: 'domain', key: 'tls.domain', help: 'DNS name of this server (for acme)' },
  { spec: '--cert-file <path>', attr: 'certFile', key: 'tls.certFile', help: 'PEM certificate chain, for --tls files' },
  { spec: '--key-file <path>', attr: 'keyFile', key: 'tls.keyFile', help: 'PEM private key, for --tls files' },
  { spec: '--acme-directory <url>', attr: 'acmeDirectory', key: 'tls.acme.directoryUrl', help: "ACME server directory (default Let's Encrypt)" },
  { spec: '--acme-email <address>', attr: 'acmeEmail', key: 'tls.acme.email', help: 'where the ACME server sends expiry warnings (optional)' },
  { spec: '--acme-ca-file <path>', attr: 'acmeCaFile', key: 'tls.acme.caFile', help: 'extra CA certificate (PEM) trusted for the ACME server, e.g. a test CA' },
  { spec: '--upnp', attr: 'upnp', key: 'upnp', help: 'ask the router to forward the ports (default)', negatable: true },
  { spec: '--behind-proxy', attr: 'behindProxy', key: 'behindProxy', help: 'a reverse proxy in front of chatroom terminates TLS', negatable: true },
  { spec: '--registration <mode>', attr: 'registration', key: 'registration', help: 'invite | open | closed (default invite)' },
  { spec: '--retention <days>', attr: 'retention', key: 'retentionDays', help: 'delete messages after this many days, or "forever" (default 90)' },
];

/** A value for a config key and where it came from (for error messages). */
export interface Override {
  key: string;
  /** e.g. '--port'. */
  source: string;
  value: unknown;
}

/** The config overrides present in commander's parsed options. */
export function overridesFromOptions(opts: Record<string, unknown>): Override[] {
  const out: Override[] = [];
  for (const f of CONFIG_FLAGS) {
    const v = opts[f.attr];
    if (v === undefined) continue;
    out.push({ key: f.key, source: f.spec.split(' ')[0], value: v });
  }
  return out;
}
