/**
 * Which host firewall is active and whether it lets our TCP ports in, found read-only: listing
 * commands only (ufw status, firewall-cmd --state/--list-ports, nft list ruleset, iptables -S,
 * socketfilterfw --get*, netsh … show). A tool that is absent or refuses (not root) is skipped or
 * makes the answer unknown; nothing is ever changed.
 */
import { readFile } from 'node:fs/promises';
import { runTool } from './run-tool.ts';
import { parseFirewalldPorts, parseIptablesRules, parseNftRuleset, parseUfwStatus, type PortVerdicts } from './rules.ts';
import type { FirewallOs } from './index.ts';

export type LinuxFirewallKind = 'ufw' | 'firewalld' | 'nftables' | 'iptables';

export interface FirewallState {
  /** ufw | firewalld | nftables | iptables | windows-defender | macos-application-firewall | none | unknown */
  kind: string;
  /** null: there is one but we could not read whether it is on (e.g. `ufw status` needs root). */
  active: boolean | null;
  /** Whether every port given gets through: null when it could not be read. */
  allowsPorts: boolean | null;
  /** Ports known to be blocked. */
  blockedPorts: number[];
  /** What was run or read, e.g. "ufw status verbose". */
  source: string;
  /** Why the answer is unknown, when it is (e.g. "ufw status needs root"). */
  note?: string;
}

export interface DetectOptions {
  timeoutMs?: number;
  env?: Record<string, string | undefined>;
  /** The node binary whose macOS application-firewall rule matters. */
  nodePath?: string;
  /** macOS: where socketfilterfw is (tests point it at a stand-in). */
  socketfilterfw?: string;
}

function summarize(kind: string, verdicts: PortVerdicts, source: string, active: boolean | null = true): FirewallState {
  const values = [...verdicts.values()];
  const blockedPorts = [...verdicts].filter(([, v]) => v === false).map(([p]) => p);
  const allowsPorts = blockedPorts.length ? false : values.every((v) => v === true) ? true : null;
  return { kind, active, allowsPorts, blockedPorts, source };
}

function unknown(kind: string, source: string, note: string, active: boolean | null = null): FirewallState {
  return { kind, active, allowsPorts: null, blockedPorts: [], source, note };
}

const NONE: FirewallState = { kind: 'none', active: false, allowsPorts: true, blockedPorts: [], source: 'ufw, firewall-cmd, nft, iptables' };

/** Detects the firewall of `os` (which must be this computer's) for TCP `ports`. */
export async function detectFirewall(os: FirewallOs, ports: number[], opts: DetectOptions = {}): Promise<FirewallState> {
  if (os === 'linux') return detectLinux(ports, opts);
  if (os === 'macos') return detectMacos(opts);
  return detectWindows(ports, opts);
}

/** Linux, in the order that matters: ufw and firewalld sit on top of nftables/iptables, so ask them first. */
export async function detectLinux(ports: number[], opts: DetectOptions = {}): Promise<FirewallState> {
  const run = (cmd: string, args: string[]) => runTool(cmd, args, { timeoutMs: opts.timeoutMs, env: opts.env });

  const ufw = await run('ufw', ['status', 'verbose']);
  if (ufw.ok) {
    const parsed = parseUfwStatus(ufw.stdout, ports);
    if (parsed.active) return summarize('ufw', parsed.verdicts, 'ufw status verbose');
  } else if (!ufw.missing) {
    // ufw is installed but will not talk to us (it needs root): its own config says whether it is on.
    const conf = await readFile('/etc/ufw/ufw.conf', 'utf8').catch(() => '');
    if (/^\s*ENABLED\s*=\s*yes/m.test(conf)) return unknown('ufw', '/etc/ufw/ufw.conf', 'ufw is enabled; reading its rules needs root (sudo ufw status verbose)', true);
  }

  const firewalld = await run('firewall-cmd', ['--state']);
  if (firewalld.ok && /running/.test(firewalld.stdout)) {
    const zone = await run('firewall-cmd', ['--get-default-zone']);
    const list = await run('firewall-cmd', ['--list-ports']);
    if (zone.ok && list.ok) return summarize('firewalld', parseFirewalldPorts(zone.stdout, list.stdout, ports), 'firewall-cmd --list-ports');
    return unknown('firewalld', 'firewall-cmd --state', 'firewalld is running; listing its ports failed (try sudo firewall-cmd --list-ports)', true);
  }

  const nft = await run('nft', ['list', 'ruleset']);
  if (nft.ok) {
    const parsed = parseNftRuleset(nft.stdout, ports);
    if (parsed.filtering) return summarize('nftables', parsed.verdicts, 'nft list ruleset');
  }
  const iptables = await run('iptables', ['-S', 'INPUT']);
  if (iptables.ok) {
    const parsed = parseIptablesRules(iptables.stdout, ports);
    if (parsed.filtering) return summarize('iptables', parsed.verdicts, 'iptables -S INPUT');
  }
  // Neither listing could be read (not root): there may be rules we cannot see.
  const unreadable = [nft, iptables].filter((r) => !r.ok && !r.missing);
  if (unreadable.length && !(nft.ok || iptables.ok)) {
    return unknown('unknown', 'nft list ruleset, iptables -S', 'reading the nftables/iptables rules needs root (sudo nft list ruleset)');
  }
  return NONE;
}

/** macOS application firewall: on/off, "block all incoming", and whether node is allowed. */
export async function detectMacos(opts: DetectOptions = {}): Promise<FirewallState> {
  const tool = opts.socketfilterfw ?? '/usr/libexec/ApplicationFirewall/socketfilterfw';
  const kind = 'macos-application-firewall';
  const run = (args: string[]) => runTool(tool, args, { timeoutMs: opts.timeoutMs, env: opts.env });
  const state = await run(['--getglobalstate']);
  if (!state.ok) return unknown(kind, 'socketfilterfw --getglobalstate', 'socketfilterfw did not answer');
  if (/disabled|State = 0/i.test(state.stdout)) return { kind, active: false, allowsPorts: true, blockedPorts: [], source: 'socketfilterfw --getglobalstate' };
  const blockAll = await run(['--getblockall']);
  if (/enabled|block all state set to enabled/i.test(blockAll.stdout) && !/disabled/i.test(blockAll.stdout)) {
    return { kind, active: true, allowsPorts: false, blockedPorts: [], source: 'socketfilterfw --getblockall', note: '"Block all incoming connections" is on' };
  }
  const app = await run(['--getappblocked', opts.nodePath ?? process.execPath]);
  if (/permitted|allowed/i.test(app.stdout)) return { kind, active: true, allowsPorts: true, blockedPorts: [], source: 'socketfilterfw --getappblocked' };
  if (/blocked/i.test(app.stdout)) return { kind, active: true, allowsPorts: false, blockedPorts: [], source: 'socketfilterfw --getappblocked', note: 'node is blocked' };
  return unknown(kind, 'socketfilterfw --getappblocked', 'node has no rule yet: macOS asks the first time it listens', true);
}

/** Windows Defender Firewall: profile states, a block rule for node.exe, our own port rule. */
export async function detectWindows(ports: number[], opts: DetectOptions = {}): Promise<FirewallState> {
  const kind = 'windows-defender';
  const run = (cmd: string, args: string[]) => runTool(cmd, args, { timeoutMs: opts.timeoutMs ?? 8000, env: opts.env });
  const state = await run('netsh', ['advfirewall', 'show', 'allprofiles', 'state']);
  if (!state.ok) return unknown(kind, 'netsh advfirewall show allprofiles state', 'netsh did not answer');
  if (!/State\s+ON/i.test(state.stdout)) return { kind, active: false, allowsPorts: true, blockedPorts: [], source: 'netsh advfirewall show allprofiles state' };
  const blocks = await run('powershell', [
    '-NoProfile',
    '-Command',
    "@(Get-NetFirewallApplicationFilter | Where-Object Program -like '*node.exe' | Get-NetFirewallRule | Where-Object { $_.Direction -eq 'Inbound' -and $_.Action -eq 'Block' -and $_.Enabled -eq 'True' }).Count",
  ]);
  if (blocks.ok && Number(blocks.stdout.trim()) > 0) {
    return { kind, active: true, allowsPorts: false, blockedPorts: [], source: 'Get-NetFirewallRule', note: 'a block rule for node.exe (left by a cancelled security prompt) is on' };
  }
  const ours = await run('netsh', ['advfirewall', 'firewall', 'show', 'rule', `name=chatroom (TCP ${ports.join(',')})`]);
  if (ours.ok && /Action:\s+Allow/i.test(ours.stdout)) {
    // Our rule is for the Private profile: on a network Windows files as Public it does not apply.
    const profile = await run('powershell', ['-NoProfile', '-Command', '(Get-NetConnectionProfile | Select-Object -First 1).NetworkCategory']);
    if (profile.ok && /^\s*Public\s*$/i.test(profile.stdout)) {
      return { kind, active: true, allowsPorts: false, blockedPorts: [], source: 'Get-NetConnectionProfile', note: 'this network is marked Public, so the Private-profile rule does not apply' };
    }
    return { kind, active: true, allowsPorts: true, blockedPorts: [], source: 'netsh advfirewall firewall show rule' };
  }
  return unknown(kind, 'netsh advfirewall firewall show rule', 'no chatroom rule found (an allow rule for node.exe may still exist)', true);
}
