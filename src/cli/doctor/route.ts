/**
 * Which interface carries the default route, read-only: a VPN owning it (tun*, wg*, ppp*, utun*…)
 * means the router's port forwarding never sees our traffic and replies to outsiders may leave
 * through the VPN.
 */
import { platform } from 'node:os';
import { runTool } from '../firewall/run-tool.ts';

/** Interface names VPN clients use (OpenVPN, WireGuard, PPP, macOS utun, IPsec, vendors). */
const VPN_INTERFACE = /^(tun|tap|wg|ppp|utun|ipsec|nordlynx|tailscale|zt|proton|mullvad|cscotun|gpd|vpn)/i;
/** Windows adapter aliases of VPN clients. */
const VPN_ALIAS = /(vpn|wireguard|openvpn|tap-windows|wintun|nordlynx|tailscale|zerotier|proton|mullvad|cisco anyconnect|globalprotect|fortinet)/i;

export interface DefaultRoute {
  /** Interface name (Linux, macOS) or adapter alias (Windows); null when there is no default route. */
  iface: string | null;
  /** What was run. */
  source: string;
  /** True when the interface looks like a VPN's. */
  vpn: boolean;
}

/** Null when the routing table could not be read (tool missing or it refused). */
export async function defaultRoute(timeoutMs: number, env?: Record<string, string | undefined>): Promise<DefaultRoute | null> {
  const os = platform();
  if (os === 'linux') {
    // `ip route get` follows policy rules (wg-quick routes everything through table 51820 that way,
    // leaving the main table's default untouched); 203.0.113.1 is a documentation address and
    // nothing is sent to it.
    const r = await runTool('ip', ['-o', 'route', 'get', '203.0.113.1'], { timeoutMs, env });
    if (r.missing) return null;
    if (!r.ok) return /unreachable/i.test(r.stderr) ? { iface: null, source: 'ip route get', vpn: false } : null;
    const iface = r.stdout.match(/\bdev\s+(\S+)/)?.[1] ?? null;
    return { iface, source: 'ip route get', vpn: Boolean(iface && VPN_INTERFACE.test(iface)) };
  }
  if (os === 'darwin') {
    const r = await runTool('route', ['-n', 'get', 'default'], { timeoutMs, env });
    if (r.missing) return null;
    const iface = r.stdout.match(/interface:\s*(\S+)/)?.[1] ?? null;
    return { iface, source: 'route -n get default', vpn: Boolean(iface && VPN_INTERFACE.test(iface)) };
  }
  if (os === 'win32') {
    const r = await runTool(
      'powershell',
      ['-NoProfile', '-Command', 'Get-NetRoute -DestinationPrefix 0.0.0.0/0 | Sort-Object RouteMetric | Select-Object -First 1 -ExpandProperty InterfaceAlias'],
      { timeoutMs: Math.max(timeoutMs, 8000), env },
    );
    if (!r.ok) return null;
    const iface = r.stdout.trim() || null;
    return { iface, source: 'Get-NetRoute', vpn: Boolean(iface && VPN_ALIAS.test(iface)) };
  }
  return null;
}
