/**
 * The final line. Where can people reach this server (once it runs)?
 * 1. "Only on this computer" when it listens on a loopback address (and no reverse proxy with a
 *    publicUrl fronts it), this computer has no LAN address, or the host firewall blocks our port.
 * 2. "Reachable from the internet at <url>" when an https URL for outside is known (facts.publicUrl:
 *    publicUrl, the domain or the router's public address) and no Firewall, Router, Internet or
 *    TLS check failed.
 * 3. Otherwise "Only on your local network".
 */
import { isLoopbackHost } from '../../tls/addresses.ts';
import type { Check, DoctorContext, Verdict } from './types.ts';

/** Sections whose failure means outsiders cannot get in even when a public URL is known. */
const OUTSIDE_SECTIONS = new Set(['firewall', 'router', 'internet', 'tls']);

export function decideVerdict(ctx: Pick<DoctorContext, 'config' | 'facts'>, checks: Check[]): Verdict {
  const { config, facts } = ctx;
  const proxied = config.behindProxy && Boolean(config.publicUrl);
  if (!proxied) {
    if (isLoopbackHost(config.host)) return { kind: 'local', text: `Only on this computer (the server listens on ${config.host} only)` };
    if (facts.lanAddresses && facts.lanAddresses.length === 0) return { kind: 'local', text: 'Only on this computer (it has no network address)' };
    if (facts.firewall?.allowsPorts === false) return { kind: 'local', text: `Only on this computer (the ${facts.firewall.kind} firewall blocks the port)` };
  }
  const outsideFailed = checks.some((c) => c.status === 'fail' && OUTSIDE_SECTIONS.has(c.section));
  if (facts.publicUrl && /^https:\/\//.test(facts.publicUrl) && !outsideFailed) {
    return { kind: 'internet', url: facts.publicUrl, text: `Reachable from the internet at ${facts.publicUrl}` };
  }
  const lan = facts.lanAddresses?.find((a) => !a.includes(':'));
  const at = lan && config.port && config.tls.mode !== 'off' ? ` (from other devices: https://${lan}:${config.port})` : '';
  return { kind: 'lan', text: `Only on your local network${at}` };
}
