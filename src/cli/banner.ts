/**
 * The lines `chatroom start` prints once the server listens: where it is, the certificate to
 * compare, and the admin setup link while nobody has an account.
 */
import type { Config } from '../config/schema.ts';
import type { RunningServer } from '../server/listen.ts';
import type { CliContext } from './context.ts';
import { printLanVariant } from './links.ts';
import { paint } from './style.ts';

/** Prints the start banner to ctx.stdout. */
export async function printBanner(server: RunningServer, config: Config, ctx: CliContext): Promise<void> {
  const p = paint(ctx);
  const out = (s = '') => ctx.stdout.write(s + '\n');
  out(`${p.green('✓')} ${p.bold(config.name)} is running.`);
  out(`Local:   ${server.localUrl}`);
  for (const url of server.lanUrls) out(`Network: ${url}`);
  if (server.httpPort) out(p.dim(`(HTTP port ${server.httpPort} redirects to HTTPS)`));
  // The QR code is for a phone's camera: only worth drawing on a terminal.
  if (ctx.isTTY && server.lanUrls[0]) {
    out();
    const QRCode = (await import('qrcode')).default;
    out(await QRCode.toString(server.lanUrls[0], { type: 'terminal', small: true }));
  }
  if (server.fingerprint) {
    out(`Certificate SHA-256 fingerprint: ${server.fingerprint}`);
    out(p.dim('  Browsers warn about this self-signed certificate: before accepting, check that they show this fingerprint.'));
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
