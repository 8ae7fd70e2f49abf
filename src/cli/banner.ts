/**
 * The lines `chatroom start` prints once the server listens: where it is, the certificate to
 * compare, and the admin setup link while nobody has an account.
 */
import type { Config } from '../config/schema.ts';
import type { RunningServer } from '../server/listen.ts';
import type { CliContext } from './context.ts';
import { printLanVariant } from './links.ts';
import { paint } from './style.ts';
import { describeChain } from '../tls/pem.ts';

/** "Certificate: …" for a certificate from a CA or from files; null for self-signed (the fingerprint lines say it) or tls off. */
function certificateLine(server: RunningServer): string | null {
  const tls = server.tls;
  if (!tls?.pair || tls.source === 'self-signed' || tls.source === 'acme-fallback-self-signed') return null;
  const facts = describeChain(tls.pair.cert);
  const issuer = /CN=([^\n,]+)/.exec(facts.issuer)?.[1] ?? facts.issuer;
  const names = facts.names.map((n) => n.replace(/^DNS:|^IP Address:/, '')).join(', ');
  const from = tls.source === 'files' ? 'your files' : tls.source === 'acme-last-good' ? 'the last good ACME order' : 'ACME';
  return `Certificate: ${names} from ${issuer} (${from}), valid until ${new Date(facts.validTo).toISOString().slice(0, 10)}`;
}

/** Prints the start banner to ctx.stdout. */
export async function printBanner(server: RunningServer, config: Config, ctx: CliContext): Promise<void> {
  const p = paint(ctx);
  const out = (s = '') => ctx.stdout.write(s + '\n');
  out(`${p.green('✓')} ${p.bold(config.name)} is running.`);
  out(`Local:   ${server.localUrl}`);
  for (const url of server.lanUrls) out(`Network: ${url}`);
  // The ACME certificate names only the domain: that is the address to give people.
  if (config.tls.mode === 'acme' && !config.publicUrl && server.tls?.source !== 'acme-fallback-self-signed') {
    out(`Domain:  https://${config.tls.domain.toLowerCase()}${server.port === 443 ? '' : `:${server.port}`}`);
  }
  if (server.httpPort) out(p.dim(`(HTTP port ${server.httpPort} redirects to HTTPS)`));
  // The QR code is for a phone's camera: only worth drawing on a terminal.
  if (ctx.isTTY && server.lanUrls[0]) {
    out();
    const QRCode = (await import('qrcode')).default;
    out(await QRCode.toString(server.lanUrls[0], { type: 'terminal', small: true }));
  }
  const cert = certificateLine(server);
  if (cert) out(cert);
  if (server.fingerprint) {
    out(`Certificate SHA-256 fingerprint: ${server.fingerprint}`);
    out(p.dim('  Browsers warn about this self-signed certificate: before accepting, check that they show this fingerprint.'));
    out(p.dim('  Invite links carry it, and the sign-up page shows it for comparing. How to trust it on each device: README, "HTTPS"'));
  }
  if (server.setupLink) {
    out();
    out(`Admin setup link: ${server.setupLink}`);
    printLanVariant(config, server.setupLink, out, server.port);
    out(p.dim('  Open it to create the admin account (it works once).'));
  }
  out();
  out(p.dim('Press Ctrl+C to stop.'));
}
