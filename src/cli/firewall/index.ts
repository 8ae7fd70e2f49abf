/**
 * Firewall instructions: the exact commands that let chatroom's ports in on Windows, Linux
 * (whichever of ufw, firewalld, nftables, iptables is active) and macOS, from templates/firewall/.
 * `chatroom start` prints them once and `chatroom firewall` on demand; doctor uses detectFirewall.
 */
import { platform } from 'node:os';
import { detectLinux } from './detect.ts';
import { renderFirewallInstructions } from './render.ts';

export type FirewallOs = 'windows' | 'linux' | 'macos';
export { detectFirewall, type FirewallState, type LinuxFirewallKind } from './detect.ts';
export { renderFirewallInstructions, type FirewallPorts } from './render.ts';

export const FIREWALL_OSES: readonly FirewallOs[] = ['windows', 'linux', 'macos'];

/** This computer's OS as the firewall instructions know it (other Unixes get the Linux commands). */
export function currentFirewallOs(): FirewallOs {
  const p = platform();
  if (p === 'win32') return 'windows';
  if (p === 'darwin') return 'macos';
  return 'linux';
}

/**
 * The commands that open `ports` (TCP) in the host firewall of `os`. On Linux, when `os` is this
 * computer, it first looks (read-only) which firewall is active and shows only that one's commands.
 */
export async function firewallInstructions(opts: { os: FirewallOs; ports: { https: number; http: number | null } }): Promise<string> {
  if (opts.os !== 'linux' || currentFirewallOs() !== 'linux') return renderFirewallInstructions(opts.os, opts.ports, 'unknown');
  const ports = opts.ports.http ? [opts.ports.https, opts.ports.http] : [opts.ports.https];
  const state = await detectLinux(ports);
  const kind = state.kind === 'none' ? null : state.kind === 'unknown' ? 'unknown' : (state.kind as 'ufw');
  return renderFirewallInstructions('linux', opts.ports, kind);
}
