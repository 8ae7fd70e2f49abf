/**
 * A fake home network for the router tests, built from Linux network namespaces created here:
 *
 *   <id>-lan  LAN host (chatroom)        192.168.77.10/24 ─┐
 *   <id>-lan2 another LAN device          192.168.77.20/24 ─┤ br0 192.168.77.1  <id>-rtr  (miniupnpd, nftables NAT)
 *   <id>-wan  "the internet"              <wan>.2/24 ───────── rwan <wan>.1
 *
 * Nothing is connected to the host's own namespace, so no packet leaves these namespaces. The
 * WAN side uses 11.11.11.0/24 (it only exists on these veths): miniupnpd refuses to forward
 * when its WAN address is private or reserved, and it counts the RFC 5737 documentation ranges
 * as reserved, so 198.51.100.0/24 and 203.0.113.0/24 would behave like CGNAT. 100.64.11.0/24
 * *is* the CGNAT case, 192.168.1.0/24 the double-NAT one.
 * Namespaces are named `crn<pid>k<n>-…`, so a crashed run never blocks the next; leftovers of
 * dead runs are removed by name at the start.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RouterKind {
  name: string;
  /** Run miniupnpd at all (false: a router without any mapping protocol). */
  daemon: boolean;
  upnp: boolean;
  /** force_igd_desc_v1=yes (OpenWrt's default). */
  igdV1?: boolean;
  /** enable_natpmp (miniupnpd answers NAT-PMP and PCP on 5351 together). */
  natpmp: boolean;
  /** Drop PCP (version 2) packets at the router: a NAT-PMP-only router. */
  blockPcp?: boolean;
  /** OpenWrt's default ACL: only external ports >= 1024. */
  lowPortAcl?: boolean;
  /** First three octets of the WAN /24. */
  wanNet: string;
  /** Add a second LAN device (for "port taken by another device"). */
  secondLanHost?: boolean;
}

export const LAN_HOST = '192.168.77.10';
export const LAN_HOST2 = '192.168.77.20';
export const LAN_GW = '192.168.77.1';
const PREFIX = 'crn';
let counter = 0;
/** Drops UDP 5351 packets whose first payload byte (the version) is 2: PCP, not NAT-PMP (version 0). */
const PCP_BLOCK = `table inet pcpblock {
  chain input {
    type filter hook input priority -10; policy accept;
    udp dport 5351 @th,64,8 2 drop
  }
}`;

/** Runs a command and returns its stdout; throws with stderr on a non-zero exit. */
export function sh(cmd: string, args: string[], input?: string): string {
  return execFileSync(cmd, args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'], timeout: 20_000 });
}

/** Like sh, but returns the output whatever the exit code. */
export function shAny(cmd: string, args: string[]): string {
  try {
    return sh(cmd, args);
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return `${e.stdout ?? ''}${e.stderr ?? ''}`;
  }
}

/** Removes namespaces (and their /etc/netns files) left by runs whose process is gone, stopping the processes in them by PID. */
export function removeLeftovers(): void {
  const dead = (name: string) => {
    const m = new RegExp(`^${PREFIX}(\\d+)k\\d+-`).exec(name);
    return m !== null && !isAlive(Number(m[1]));
  };
  for (const line of shAny('ip', ['netns', 'list']).split('\n')) {
    const name = line.split(' ')[0] ?? '';
    if (!dead(name)) continue;
    for (const pid of shAny('ip', ['netns', 'pids', name]).split('\n').filter(Boolean)) killPid(Number(pid), 'SIGKILL');
    shAny('ip', ['netns', 'del', name]);
  }
  if (existsSync('/etc/netns')) for (const name of readdirSync('/etc/netns')) if (dead(name)) rmSync(join('/etc/netns', name), { recursive: true, force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function killPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** Collects a process's output and waits for patterns in it (no polling, no sleeps). */
export class Output {
  text = '';
  private waiters: Array<() => void> = [];
  constructor(...streams: Array<NodeJS.ReadableStream | null>) {
    for (const s of streams) {
      s?.setEncoding?.('utf8');
      s?.on('data', (chunk: string) => {
        this.text += chunk;
        for (const w of [...this.waiters]) w();
      });
    }
  }
  /** Resolves with the first match of `re` (or when it matched `count` times), rejects after `timeoutMs`. */
  waitFor(re: RegExp, timeoutMs: number, count = 1): Promise<RegExpMatchArray> {
    const g = new RegExp(re.source, re.flags.includes('g') ? re.flags : re.flags + 'g');
    return new Promise((resolve, reject) => {
      const check = () => {
        const all = [...this.text.matchAll(g)];
        if (all.length >= count) {
          done();
          resolve(all[count - 1]!);
          return true;
        }
        return false;
      };
      const done = () => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== waiter);
      };
      const waiter = () => void check();
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${re} (${count}×); output so far:\n${this.text.slice(-3000)}`));
      }, timeoutMs);
      if (!check()) this.waiters.push(waiter);
    });
  }
  count(re: RegExp): number {
    return [...this.text.matchAll(new RegExp(re.source, 'g'))].length;
  }
}

export class NetLab {
  readonly id: string;
  readonly lan: string;
  readonly lan2: string | null;
  readonly rtr: string;
  readonly wan: string;
  readonly wanIp: string;
  readonly wanPeer: string;
  readonly dir: string;
  routerLog: Output | null = null;
  private router: ChildProcess | null = null;
  private readonly processes: ChildProcess[] = [];

  private constructor(readonly kind: RouterKind) {
    this.id = `${PREFIX}${process.pid}k${counter++}`;
    this.lan = `${this.id}-lan`;
    this.lan2 = kind.secondLanHost ? `${this.id}-lan2` : null;
    this.rtr = `${this.id}-rtr`;
    this.wan = `${this.id}-wan`;
    this.wanIp = `${kind.wanNet}.1`;
    this.wanPeer = `${kind.wanNet}.2`;
    this.dir = mkdtempSync(join(tmpdir(), `${this.id}-`));
  }

  /** Builds the namespaces and starts the router; `destroy()` undoes everything. */
  static async create(kind: RouterKind): Promise<NetLab> {
    const lab = new NetLab(kind);
    try {
      lab.build();
      if (kind.daemon) await lab.startRouter();
    } catch (err) {
      await lab.destroy();
      throw err;
    }
    return lab;
  }

  private build(): void {
    const { lan, lan2, rtr, wan, kind } = this;
    for (const ns of [wan, rtr, lan, ...(lan2 ? [lan2] : [])]) {
      sh('ip', ['netns', 'add', ns]);
      sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    }
    // veths are created directly inside the namespaces, never in the root namespace.
    sh('ip', ['link', 'add', 'rwan', 'netns', rtr, 'type', 'veth', 'peer', 'name', 'wan0', 'netns', wan]);
    sh('ip', ['-n', rtr, 'link', 'add', 'br0', 'type', 'bridge']);
    const lans: Array<[string, string, string]> = [[lan, 'rlan', LAN_HOST], ...(lan2 ? [[lan2, 'rlan2', LAN_HOST2] as [string, string, string]] : [])];
    for (const [ns, rif, addr] of lans) {
      sh('ip', ['link', 'add', rif, 'netns', rtr, 'type', 'veth', 'peer', 'name', 'lan0', 'netns', ns]);
      sh('ip', ['-n', rtr, 'link', 'set', rif, 'master', 'br0']);
      sh('ip', ['-n', rtr, 'link', 'set', rif, 'up']);
      sh('ip', ['-n', ns, 'addr', 'add', `${addr}/24`, 'dev', 'lan0']);
      sh('ip', ['-n', ns, 'link', 'set', 'lan0', 'up']);
      sh('ip', ['-n', ns, 'route', 'add', 'default', 'via', LAN_GW]);
    }
    sh('ip', ['-n', wan, 'addr', 'add', `${this.wanPeer}/24`, 'dev', 'wan0']);
    sh('ip', ['-n', wan, 'link', 'set', 'wan0', 'up']);
    sh('ip', ['-n', rtr, 'addr', 'add', `${this.wanIp}/24`, 'dev', 'rwan']);
    sh('ip', ['-n', rtr, 'addr', 'add', `${LAN_GW}/24`, 'dev', 'br0']);
    sh('ip', ['-n', rtr, 'link', 'set', 'rwan', 'up']);
    sh('ip', ['-n', rtr, 'link', 'set', 'br0', 'up']);
    sh('ip', ['-n', rtr, 'route', 'add', 'default', 'via', this.wanPeer]);
    sh('ip', ['netns', 'exec', rtr, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    // The chains miniupnpd's nftables backend fills (named in its config below). Debian's
    // /etc/miniupnpd/nft_init.sh would do this but sources the iptables flavour of its helper
    // functions, so $NFT and $TABLE are empty there.
    const rules = `table inet filter {
  chain forward { type filter hook forward priority 0; policy drop; ct state established,related accept; iifname "br0" oifname "rwan" accept; jump miniupnpd; }
  chain miniupnpd { }
  chain prerouting { type nat hook prerouting priority -100; policy accept; jump prerouting_miniupnpd; }
  chain postrouting { type nat hook postrouting priority 100; policy accept; jump postrouting_miniupnpd; oifname "rwan" masquerade; }
  chain prerouting_miniupnpd { }
  chain postrouting_miniupnpd { }
}
${kind.blockPcp ? PCP_BLOCK : ''}
`;
    sh('ip', ['netns', 'exec', rtr, 'nft', '-f', '-'], rules);
  }

  private async startRouter(): Promise<void> {
    const k = this.kind;
    const conf = join(this.dir, 'miniupnpd.conf');
    writeFileSync(
      conf,
      [
        'ext_ifname=rwan',
        'listening_ip=br0',
        'http_port=5000',
        `enable_upnp=${k.upnp ? 'yes' : 'no'}`,
        `enable_natpmp=${k.natpmp ? 'yes' : 'no'}`,
        'secure_mode=yes',
        'system_uptime=yes',
        `force_igd_desc_v1=${k.igdV1 ? 'yes' : 'no'}`,
        `lease_file=${join(this.dir, 'upnp.leases')}`,
        'uuid=3c6e4a8e-0000-4000-8000-000000000001',
        `friendly_name=netlab ${k.name} router`,
        // short NAT-PMP/PCP leases are allowed so renewal can be watched
        'min_lifetime=2',
        'max_lifetime=86400',
        'upnp_table_name=filter',
        'upnp_nat_table_name=filter',
        'upnp_forward_chain=miniupnpd',
        'upnp_nat_chain=prerouting_miniupnpd',
        'upnp_nat_postrouting_chain=postrouting_miniupnpd',
        k.lowPortAcl ? 'allow 1024-65535 192.168.77.0/24 1024-65535' : 'allow 1-65535 192.168.77.0/24 1-65535',
        'deny 0-65535 0.0.0.0/0 0-65535',
        '',
      ].join('\n'),
    );
    // -d: foreground, log to stderr. `ip netns exec` execs, so the child's PID is miniupnpd's.
    const child = spawn('ip', ['netns', 'exec', this.rtr, 'miniupnpd', '-d', '-f', conf, '-P', join(this.dir, 'miniupnpd.pid')], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.processes.push(child);
    this.router = child;
    this.routerLog = new Output(child.stdout, child.stderr);
    await this.routerLog.waitFor(k.natpmp ? /Listening for NAT-PMP\/PCP traffic/ : /HTTP listening on port/, 5000);
  }

  /** Stops miniupnpd (by its PID): the router's mapping service goes away mid-run. */
  async stopRouter(): Promise<void> {
    const r = this.router;
    if (!r || r.exitCode !== null || r.signalCode !== null) return;
    const exited = once(r, 'exit');
    r.kill('SIGTERM');
    await exited;
  }

  /** Starts a process inside namespace `ns` and keeps it for destroy(). */
  spawnIn(ns: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): { child: ChildProcess; output: Output } {
    const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    this.processes.push(child);
    return { child, output: new Output(child.stdout, child.stderr) };
  }

  /** Runs a command in namespace `ns` to completion (any exit code). */
  async run(ns: string, cmd: string, args: string[], timeoutMs = 20_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.processes.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const [code] = (await once(child, 'close')) as [number | null];
    clearTimeout(timer);
    return { code, stdout, stderr };
  }

  /** The router's NAT table as miniupnpd wrote it: `dnat` targets in prerouting_miniupnpd. */
  natRules(): string[] {
    const out = sh('ip', ['netns', 'exec', this.rtr, 'nft', 'list', 'chain', 'inet', 'filter', 'prerouting_miniupnpd']);
    return out.split('\n').filter((l) => /dnat/.test(l)).map((l) => l.trim());
  }

  /** Stops every process started here (by PID), removes the namespaces and the temp folder. */
  async destroy(): Promise<void> {
    for (const p of this.processes) {
      if (p.exitCode === null && p.signalCode === null && p.pid) {
        killPid(p.pid, 'SIGTERM');
        const exited = once(p, 'exit');
        const timer = setTimeout(() => p.pid && killPid(p.pid, 'SIGKILL'), 3000);
        await exited;
        clearTimeout(timer);
      }
    }
    for (const ns of [this.lan, ...(this.lan2 ? [this.lan2] : []), this.rtr, this.wan]) shAny('ip', ['netns', 'del', ns]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
