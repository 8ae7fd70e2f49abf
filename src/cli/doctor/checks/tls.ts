/**
 * Doctor · TLS: the mode, and for the certificate chatroom would serve — issuer, names, expiry,
 * key match, chain, fingerprint — plus, for acme, the last failed order and whether port 80 reaches
 * the HTTP port (ctx.facts.httpPortReachable, from the Router section). Reads files only: it never
 * orders, re-makes or reloads a certificate.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { certNames } from '../../../tls/addresses.ts';
import { certFilePaths } from '../../../tls/files.ts';
import { describeChain, keyMatchesLeaf, type CertificateFacts } from '../../../tls/pem.ts';
import { acmePaths, readLastFailure } from '../../../tls/acme-store.ts';
import { shellQuote } from '../../style.ts';
import type { Check, CheckGroup, CheckStatus, DoctorContext } from '../types.ts';

/** Warn when fewer days than this are left. */
export const EXPIRY_WARN_DAYS = 21;
const DAY_MS = 86_400_000;

type Mode = DoctorContext['config']['tls']['mode'];

/** The TLS section of `chatroom doctor`. */
export const tlsChecks: CheckGroup = async (ctx) => {
  const { config } = ctx;
  const mode = config.tls.mode;
  const checks: Check[] = [modeCheck(ctx)];
  if (mode === 'off') return checks;

  const files = certificateFiles(ctx);
  const start = `chatroom start --dir ${shellQuote(ctx.dir)}`;
  if (!existsSync(files.cert) || !existsSync(files.key)) {
    checks.push(
      check('tls.certificate', files.missingStatus, 'Certificate', `none yet at ${files.cert}`, files.missingStatus === 'ok' ? undefined : files.missingFix),
    );
  } else {
    let facts: CertificateFacts | null = null;
    let cert = '';
    let key = '';
    try {
      cert = readFileSync(files.cert, 'utf8');
      key = readFileSync(files.key, 'utf8');
      facts = describeChain(cert);
    } catch (err) {
      checks.push(check('tls.certificate', 'fail', 'Certificate', `cannot read ${files.cert}: ${(err as Error).message}`, files.missingFix));
    }
    if (facts) checks.push(...certificateChecks(ctx, mode, facts, keyMatchesLeaf(cert, key), files.cert, start));
  }
  if (mode === 'acme') checks.push(lastOrderCheck(ctx, start), httpPortCheck(ctx));
  return checks;
};

function check(id: string, status: CheckStatus, title: string, value: string, fix?: string[], details?: Record<string, unknown>): Check {
  return { id, section: 'tls', status, title, value, ...(fix && status !== 'ok' ? { fix } : {}), ...(details ? { details } : {}) };
}

function modeCheck(ctx: DoctorContext): Check {
  const { config } = ctx;
  const words: Record<Mode, string> = {
    'self-signed': 'self-signed (made on this computer; guests compare the fingerprint once)',
    acme: `acme: ${config.tls.domain} from ${hostOf(config.tls.acme.directoryUrl)}`,
    files: `files: ${certFilePaths(config).certPath}`,
    off: config.behindProxy ? `off: a reverse proxy adds HTTPS (X-Forwarded-* trusted from ${config.trustedProxies.join(', ')})` : 'off: plain HTTP on this computer only',
  };
  return check('tls.mode', 'ok', 'TLS mode', words[config.tls.mode], undefined, { mode: config.tls.mode });
}

function certificateFiles(ctx: DoctorContext): { cert: string; key: string; missingStatus: CheckStatus; missingFix: string[] } {
  const { config } = ctx;
  const start = `chatroom start --dir ${shellQuote(ctx.dir)}`;
  if (config.tls.mode === 'files') {
    const { certPath, keyPath } = certFilePaths(config);
    return { cert: certPath, key: keyPath, missingStatus: 'fail', missingFix: [`Put the certificate (full chain) at ${certPath} and its key at ${keyPath}, or change tls.certFile / tls.keyFile in chatroom.yaml`] };
  }
  if (config.tls.mode === 'acme') {
    const paths = acmePaths(config.dataPath);
    return { cert: paths.cert, key: paths.certKey, missingStatus: 'warn', missingFix: [`${start} orders one (the HTTP port must be reachable on port 80 from the internet)`] };
  }
  const dir = join(config.dataPath, 'tls');
  return { cert: join(dir, 'self-signed.crt'), key: join(dir, 'self-signed.key'), missingStatus: 'ok', missingFix: [`${start} makes it`] };
}

function certificateChecks(ctx: DoctorContext, mode: Mode, facts: CertificateFacts, keyMatches: boolean, certPath: string, start: string): Check[] {
  const { config } = ctx;
  const out: Check[] = [];
  const selfSigned = facts.chainEnd === 'self-signed' && facts.chainLength === 1;
  out.push(check('tls.issuer', 'ok', 'Issuer', selfSigned ? 'self-signed' : cn(facts.issuer), undefined, { issuer: facts.issuer }));

  const have = new Set(facts.names.map((n) => (n.startsWith('IP Address:') ? `ip address:${canonicalIp(n.slice(11))}` : n.toLowerCase())));
  const wanted = mode === 'self-signed' ? selfSignedNames(config) : mode === 'acme' ? [`dns:${config.tls.domain.toLowerCase()}`] : config.tls.domain ? [`dns:${config.tls.domain.toLowerCase()}`] : [];
  const missing = wanted.filter((w) => !have.has(w.replace(/^ip:/, 'ip address:')));
  const names = facts.names.map((n) => n.replace(/^DNS:|^IP Address:/, '')).join(', ') || '(none)';
  const missingWords = missing.map((m) => m.replace(/^dns:|^ip:/, '')).join(', ');
  out.push(
    missing.length === 0
      ? check('tls.names', 'ok', 'Names', names, undefined, { names: facts.names })
      : mode === 'self-signed'
        ? check('tls.names', 'warn', 'Names', `${names}; not yet ${missingWords} (a new name or address)`, [`${start} re-makes the certificate with every current name and address`], { names: facts.names, missing })
        : check('tls.names', 'fail', 'Names', `${names}; missing ${missingWords}`, mode === 'acme' ? [`${start} orders a certificate for ${config.tls.domain}`] : [`Get a certificate that names ${missingWords} and put it at ${certPath}`], { names: facts.names, missing }),
  );

  const daysLeft = Math.floor((facts.validTo - Date.now()) / DAY_MS);
  const until = new Date(facts.validTo).toISOString().slice(0, 10);
  const renewFix =
    mode === 'files' ? [`Renew the certificate (e.g. certbot renew) and write it to ${certPath}: a running chatroom reloads it by itself`] : [`${start} ${mode === 'acme' ? 'renews it (see the last order below if it keeps failing)' : 're-makes it'}`];
  out.push(
    facts.validTo <= Date.now()
      ? check('tls.expiry', 'fail', 'Expiry', `expired on ${until}`, renewFix, { validTo: facts.validTo })
      : daysLeft < EXPIRY_WARN_DAYS
        ? check('tls.expiry', mode === 'acme' && daysLeft > 0 && !readLastFailure(acmePaths(config.dataPath)) ? 'ok' : 'warn', 'Expiry', `${until} (${daysLeft} days left)`, renewFix, { validTo: facts.validTo, daysLeft })
        : check('tls.expiry', 'ok', 'Expiry', `${until} (${daysLeft} days left)`, undefined, { validTo: facts.validTo, daysLeft }),
  );

  out.push(
    keyMatches
      ? check('tls.key', 'ok', 'Key matches', 'the key belongs to the certificate')
      : check('tls.key', 'fail', 'Key matches', 'the key does not belong to the certificate', mode === 'files' ? [`Point tls.keyFile at the key made together with ${certPath}`] : [`${start} replaces the pair`]),
  );

  const chainWords: Record<CertificateFacts['chainEnd'], [CheckStatus, string]> = {
    'trusted-root': ['ok', `complete: ${facts.chainLength} certificate${facts.chainLength > 1 ? 's' : ''} up to a root this computer trusts`],
    'self-signed': [mode === 'self-signed' ? 'ok' : 'warn', selfSigned ? 'self-signed: browsers warn until the device trusts it (README, "HTTPS")' : 'ends at an included root'],
    'unknown-issuer': ['warn', `ends at ${cn(lastIssuer(facts))}, which this computer does not trust (a missing intermediate, or a private or test CA)`],
    broken: ['fail', 'the certificates are not a chain (wrong order or mixed files)'],
  };
  const [chainStatus, chainValue] = chainWords[facts.chainEnd];
  out.push(
    check('tls.chain', chainStatus, 'Chain', chainValue, mode === 'files' ? [`Use the full-chain file (server certificate first, then each issuer) at ${certPath}`] : [`${start} fetches a fresh chain`], {
      chainEnd: facts.chainEnd,
      chainLength: facts.chainLength,
    }),
  );
  out.push(check('tls.fingerprint', 'ok', 'SHA-256 fingerprint', facts.fingerprint256, undefined, { fingerprint256: facts.fingerprint256 }));
  return out;
}

function lastOrderCheck(ctx: DoctorContext, start: string): Check {
  const failure = readLastFailure(acmePaths(ctx.config.dataPath));
  if (!failure) return check('tls.acme.lastOrder', 'ok', 'Last certificate order', 'no failed order on record');
  const hasCert = existsSync(acmePaths(ctx.config.dataPath).cert);
  return check(
    'tls.acme.lastOrder',
    hasCert ? 'warn' : 'fail',
    'Last certificate order',
    `failed ${failure.at.slice(0, 16).replace('T', ' ')} UTC: ${failure.reason}`,
    [
      `Check that ${failure.domain} points at your public address and that port 80 from the internet reaches port ${ctx.config.httpPort} here`,
      `${start} tries again (it also retries by itself while running)`,
    ],
    { at: failure.at, reason: failure.reason },
  );
}

function httpPortCheck(ctx: DoctorContext): Check {
  const port = ctx.config.httpPort;
  const reachable = ctx.facts.httpPortReachable;
  if (reachable === true) return check('tls.acme.httpPort', 'ok', 'Port 80 for ACME', `the internet reaches port ${port} (HTTP-01 can pass)`);
  if (reachable === false) {
    return check('tls.acme.httpPort', 'fail', 'Port 80 for ACME', `external port 80 does not reach port ${port}: the CA cannot validate ${ctx.config.tls.domain}`, [
      `On the router, forward TCP port 80 to this computer's port ${port} (or allow UPnP: upnp: true in chatroom.yaml)`,
      'If your provider blocks port 80, use a reverse proxy with DNS validation or tls.mode: files (README, "HTTPS")',
    ]);
  }
  return check('tls.acme.httpPort', 'warn', 'Port 80 for ACME', 'not known: the router did not tell', [`chatroom doctor --dir ${shellQuote(ctx.dir)} --remote checks it from your phone on mobile data`]);
}

/** What a self-signed certificate should name now: the same list chatroom start would use. */
function selfSignedNames(config: DoctorContext['config']): string[] {
  const { dnsNames, ipAddresses } = certNames(config);
  return [...dnsNames.map((d) => `dns:${d.toLowerCase()}`), ...ipAddresses.map((ip) => `ip:${canonicalIp(ip)}`)];
}

function canonicalIp(ip: string): string {
  if (!ip.includes(':')) return ip;
  try {
    return new URL(`http://[${ip}]/`).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return ip.toLowerCase();
  }
}

function lastIssuer(facts: CertificateFacts): string {
  return facts.chainLength === 1 ? facts.issuer : 'its issuer';
}

function cn(dn: string): string {
  return /CN=([^\n,]+)/.exec(dn)?.[1] ?? dn.replace(/\n/g, ', ');
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}
