// chatroom doctor through the real bin: JSON shape and exit codes (all sections, in a network namespace with a LAN and no router), and each Local and Firewall check failing for its real cause (a port held by another program, a loopback or foreign bind, an unprivileged low port, a VPN default route and no network in a namespace, a firewall that blocks or cannot be read); plus a throwing section that does not stop the others.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { Check, DoctorReport } from '../../src/cli/doctor/types.ts';
import { runDoctorCommand } from '../../src/cli/doctor/flow.ts';
import { processContext } from '../../src/cli/context.ts';
import { requirementsSkip } from '../helpers/requires.ts';
import { BIN, fakeContext, freePort, requireBuild, runCli, spawnCli, tempDir } from './helpers.ts';

/** A folder with chatroom.yaml holding `yaml` (doctor needs nothing else). */
function configDir(t: TestContext, yaml: string): string {
  const dir = tempDir(t, 'chatroom-doctor-');
  // On the host the Router section would probe the real gateway (PCP, NAT-PMP, SSDP): tests send
  // nothing off this machine, so the router is left alone unless a test says otherwise.
  writeFileSync(join(dir, 'chatroom.yaml'), /^upnp:/m.test(yaml) ? yaml : `upnp: false\n${yaml}`);
  return dir;
}

async function freePorts(): Promise<{ https: number; http: number }> {
  const https = await freePort();
  let http = await freePort();
  while (http === https) http = await freePort();
  return { https, http };
}

/**
 * Only the Local and Firewall sections: the Router and Internet ones talk to the real network's
 * router, which tests leave alone (the all-sections run below is in a namespace of its own).
 */
const ONLY = ['--only', 'local,firewall'];

async function doctorJson(t: TestContext, dir: string, env: Record<string, string> = {}): Promise<{ code: number | null; report: DoctorReport; stderr: string }> {
  const r = await runCli(t, ['doctor', '--dir', dir, '--json', '--timeout', '2000', ...ONLY], env);
  let report: DoctorReport;
  try {
    report = JSON.parse(r.stdout) as DoctorReport;
  } catch {
    assert.fail(`stdout is not one JSON document:\n${r.stdout}\nstderr:\n${r.stderr}`);
  }
  return { code: r.code, report, stderr: r.stderr };
}

function check(report: DoctorReport, id: string): Check {
  const c = report.checks.find((x) => x.id === id);
  assert.ok(c, `no check ${id} in ${report.checks.map((x) => x.id).join(', ')}`);
  return c;
}

/** A plain TCP listener that is not chatroom (it never answers HTTP). */
async function otherProgram(t: TestContext, port: number, host = '127.0.0.1'): Promise<Server> {
  const sockets = new Set<import('node:net').Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  t.after(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return server;
}

/** Stand-in firewall tools first on PATH (the real ones of this machine come after). */
function withFakeTools(t: TestContext, tools: Record<string, { out: string; code?: number }>): Record<string, string> {
  const bin = join(tempDir(t, 'chatroom-fakebin-'), 'bin');
  mkdirSync(bin);
  for (const [name, { out, code = 0 }] of Object.entries(tools)) {
    writeFileSync(join(bin, name), `#!/bin/sh\ncat <<'OUT'\n${out}\nOUT\nexit ${code}\n`);
    chmodSync(join(bin, name), 0o755);
  }
  return { PATH: `${bin}:${process.env.PATH}` };
}

test('--json: one document with every Local and Firewall check, ok:true and exit 0 when ports are free', async (t) => {
  const { https, http } = await freePorts();
  const dir = configDir(t, `port: ${https}\nhttpPort: ${http}\n`);
  const { code, report } = await doctorJson(t, dir, withFakeTools(t, { nft: { out: '' }, iptables: { out: '-P INPUT ACCEPT' } }));
  assert.equal(report.version, 1);
  assert.ok(Array.isArray(report.checks));
  for (const c of report.checks) {
    assert.match(c.id, /^[a-z]+\.[A-Za-z.]+$/);
    assert.ok(['ok', 'warn', 'fail'].includes(c.status), `${c.id}: ${c.status}`);
    assert.equal(typeof c.title, 'string');
    assert.equal(typeof c.value, 'string');
  }
  for (const id of ['local.port', 'local.httpPort', 'local.bind', 'local.lan', 'local.vpn', 'firewall.active', 'firewall.ports']) check(report, id);
  assert.equal(check(report, 'local.port').status, 'ok');
  assert.equal(check(report, 'local.port').value, `${https} is free`);
  assert.equal(check(report, 'firewall.active').details?.kind, 'none');
  assert.equal(report.ok, true);
  assert.equal(code, 0);
  assert.ok(['lan', 'local', 'internet'].includes(report.verdict.kind));
});

test('a port held by another program: local.port fails, names the program, and the fix picks another port', async (t) => {
  const { https, http } = await freePorts();
  await otherProgram(t, https);
  const dir = configDir(t, `port: ${https}\nhttpPort: ${http}\n`);
  const { code, report } = await doctorJson(t, dir);
  const c = check(report, 'local.port');
  assert.equal(c.status, 'fail');
  assert.match(c.value, new RegExp(`^${https} is used by another program`));
  assert.equal(c.details?.chatroom, false);
  // As root, ss names the holder: this test's own node process.
  if (process.getuid?.() === 0) assert.equal((c.details?.owner as { pid: number } | null)?.pid, process.pid);
  assert.ok(c.fix?.some((f) => f.includes(`--port 9443`) && f.includes(dir)), c.fix?.join('\n'));
  assert.ok(c.fix?.some((f) => f.includes(`sport = :${https}`)), c.fix?.join('\n'));
  assert.equal(report.ok, false);
  assert.equal(code, 1);
});

test('the text report: sections, ✗ line with its value, the fix indented under it, and the verdict', async (t) => {
  const { https, http } = await freePorts();
  await otherProgram(t, https);
  const dir = configDir(t, `port: ${https}\nhttpPort: ${http}\n`);
  const r = await runCli(t, ['doctor', '--dir', dir, ...ONLY]);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /^Local\n/);
  assert.match(r.stdout, /\nFirewall\n/);
  assert.match(r.stdout, new RegExp(`\\n  ✗ HTTPS port +${https} is used by another program.*\\n      chatroom start --dir .* --port 9443`));
  assert.match(r.stdout, /\n  ✓ HTTP port +\d+ is free\n/);
  assert.match(r.stdout, /\n(Only on your local network|Only on this computer|Reachable from the internet at https:\/\/)/);
});

test('the HTTP port held by another program is a warn (chatroom serves without its redirect): exit 0', async (t) => {
  const { https, http } = await freePorts();
  await otherProgram(t, http);
  const dir = configDir(t, `port: ${https}\nhttpPort: ${http}\n`);
  const { code, report } = await doctorJson(t, dir, withFakeTools(t, { nft: { out: '' }, iptables: { out: '-P INPUT ACCEPT' } }));
  const c = check(report, 'local.httpPort');
  assert.equal(c.status, 'warn');
  assert.match(c.value, /used by another program/);
  assert.ok(c.fix?.some((f) => f.includes('--http-port 9080')));
  assert.equal(code, 0);
});

test('a running chatroom on the port is ok: local.port and local.httpPort say chatroom is running', async (t) => {
  const { https, http } = await freePorts();
  const dir = tempDir(t, 'chatroom-doctor-');
  const init = await runCli(t, ['init', '--yes', '--dir', dir, '--port', String(https), '--http-port', String(http), '--host', '127.0.0.1']);
  assert.equal(init.code, 0, init.stderr);
  const server = spawnCli(t, ['start', '--dir', dir]);
  await server.stdout.waitFor(/is running/);
  const { report } = await doctorJson(t, dir);
  const port = check(report, 'local.port');
  assert.equal(port.status, 'ok');
  assert.equal(port.value, `chatroom is running on ${https}`);
  assert.equal(port.details?.chatroom, true);
  assert.equal(check(report, 'local.httpPort').value, `chatroom is running on ${http}`);
  server.proc.kill('SIGTERM');
  assert.equal(await server.exited, 0);
});

test('a loopback bind: local.bind warns with the --host fix, firewall is "not needed", verdict "Only on this computer"', async (t) => {
  const { https, http } = await freePorts();
  const dir = configDir(t, `port: ${https}\nhttpPort: ${http}\nhost: 127.0.0.1\n`);
  const { code, report } = await doctorJson(t, dir);
  const bind = check(report, 'local.bind');
  assert.equal(bind.status, 'warn');
  assert.match(bind.value, /^127\.0\.0\.1 only/);
  assert.ok(bind.fix?.[0]?.includes('--host 0.0.0.0'));
  assert.match(check(report, 'firewall.ports').value, /not needed/);
  assert.equal(report.verdict.kind, 'local');
  assert.match(report.verdict.text, /^Only on this computer/);
  assert.equal(code, 0);
});

test('a bind address that is not this computer\'s fails local.bind', async (t) => {
  const { https, http } = await freePorts();
  const dir = configDir(t, `port: ${https}\nhttpPort: ${http}\nhost: 198.51.100.77\n`);
  const { code, report } = await doctorJson(t, dir);
  const bind = check(report, 'local.bind');
  assert.equal(bind.status, 'fail');
  assert.match(bind.value, /198\.51\.100\.77 is not an address of this computer/);
  assert.match(check(report, 'local.port').value, /not checked/);
  assert.equal(code, 1);
});

test('a low port as an unprivileged user fails local.port with "needs administrator rights"', { skip: process.getuid?.() === 0 ? undefined : 'needs root (to run the bin as nobody)' }, async (t) => {
  requireBuild();
  const dir = configDir(t, 'port: 443\nhttpPort: 0\nhost: 127.0.0.1\n');
  chmodSync(dir, 0o755);
  let stdout: string;
  try {
    stdout = execFileSync(process.execPath, [BIN, 'doctor', '--dir', dir, '--json'], { uid: 65534, gid: 65534, env: { ...process.env, NO_COLOR: '1', HOME: '/tmp' }, encoding: 'utf8' });
    assert.fail('doctor exited 0 although local.port must fail');
  } catch (err) {
    const e = err as { status?: number; stdout?: string };
    assert.equal(e.status, 1, String(err));
    stdout = e.stdout ?? '';
  }
  const c = check(JSON.parse(stdout) as DoctorReport, 'local.port');
  assert.equal(c.status, 'fail');
  assert.match(c.value, /443 needs administrator rights/);
  assert.ok(c.fix?.some((f) => f.includes('--port 8443')));
});

test('an active ufw that does not allow our ports: firewall.ports fails with the ufw allow commands; verdict "Only on this computer"', async (t) => {
  const { https, http } = await freePorts();
  const dir = configDir(t, `port: ${https}\nhttpPort: ${http}\n`);
  const ufw = 'Status: active\nDefault: deny (incoming), allow (outgoing), disabled (routed)\n\nTo                         Action      From\n--                         ------      ----\n22/tcp                     ALLOW IN    Anywhere';
  const { code, report } = await doctorJson(t, dir, withFakeTools(t, { ufw: { out: ufw } }));
  assert.equal(check(report, 'firewall.active').value, 'ufw is on');
  const ports = check(report, 'firewall.ports');
  assert.equal(ports.status, 'fail');
  assert.equal(ports.value, `ufw blocks TCP ${https}, ${http}`);
  assert.ok(ports.fix?.includes(`sudo ufw allow ${https}/tcp comment 'chatroom HTTPS'`), ports.fix?.join('\n'));
  assert.ok(ports.fix?.includes(`sudo ufw allow ${http}/tcp comment 'chatroom HTTP'`));
  assert.equal(report.verdict.kind, 'local');
  assert.match(report.verdict.text, /ufw firewall blocks/);
  assert.equal(code, 1);
});

test('rules that cannot be read (not root): firewall.active and firewall.ports warn and point to --remote', async (t) => {
  const { https, http } = await freePorts();
  const dir = configDir(t, `port: ${https}\nhttpPort: ${http}\n`);
  const env = withFakeTools(t, { nft: { out: 'Error: Operation not permitted', code: 1 }, iptables: { out: 'Permission denied (you must be root)', code: 4 } });
  const { code, report } = await doctorJson(t, dir, env);
  assert.equal(check(report, 'firewall.active').status, 'warn');
  const ports = check(report, 'firewall.ports');
  assert.equal(ports.status, 'warn');
  assert.ok(ports.fix?.some((f) => f.startsWith('chatroom doctor --remote')));
  assert.equal(code, 0);
});

test('a bad chatroom.yaml exits 2 naming the key; a bad --timeout exits 2', async (t) => {
  const bad = await runCli(t, ['doctor', '--dir', configDir(t, 'port: not-a-port\n')]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /CONFIG_INVALID.*port/);
  const missing = await runCli(t, ['doctor', '--dir', tempDir(t)]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /CONFIG_MISSING/);
  const timeout = await runCli(t, ['doctor', '--dir', configDir(t, ''), '--timeout', 'soon']);
  assert.equal(timeout.code, 2);
  assert.match(timeout.stderr, /--timeout must be a whole number/);
  const only = await runCli(t, ['doctor', '--dir', configDir(t, ''), '--only', 'local,dns']);
  assert.equal(only.code, 2);
  assert.match(only.stderr, /--only takes section names from: local, firewall/);
});

test('a section that throws becomes one failing <section>.error check and the next sections still run', async (t) => {
  const dir = configDir(t, 'port: 8443\n');
  const { ctx, stdout } = fakeContext();
  const code = await runDoctorCommand(
    dir,
    {
      json: false,
      timeoutMs: 1000,
      remote: false,
      remoteWaitMs: 0,
      groups: [
        { section: 'router', run: async () => { throw new Error('router exploded'); } },
        { section: 'tls', run: async () => [{ id: 'tls.expiry', section: 'tls', status: 'ok', title: 'Expiry', value: 'in 300 days' }] },
      ],
    },
    processContext(ctx),
  );
  assert.equal(code, 1);
  assert.match(stdout.text, /Router\n  ✗ Router checks +stopped with an error: router exploded\n/);
  assert.match(stdout.text, /TLS\n  ✓ Expiry +in 300 days\n/);
});

const NETNS = requirementsSkip([{ pkg: 'iproute2', binary: '/usr/sbin/ip' }], { root: true });

/** A network namespace the test makes and removes; `setup` are `ip` argument lists run inside it. */
function namespace(t: TestContext, setup: string[][]): string {
  const name = `crdoc-${process.pid}-${Math.random().toString(36).slice(2, 7)}`;
  execFileSync('ip', ['netns', 'add', name]);
  t.after(() => execFileSync('ip', ['netns', 'delete', name]));
  for (const args of [['link', 'set', 'lo', 'up'], ...setup]) execFileSync('ip', ['-n', name, ...args]);
  return name;
}

async function doctorInNamespace(t: TestContext, ns: string, dir: string, args: string[] = ONLY): Promise<{ code: number; report: DoctorReport }> {
  requireBuild();
  try {
    const out = execFileSync('ip', ['netns', 'exec', ns, process.execPath, BIN, 'doctor', '--dir', dir, '--json', '--timeout', '1000', ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    return { code: 0, report: JSON.parse(out) as DoctorReport };
  } catch (err) {
    const e = err as { status: number; stdout: string };
    return { code: e.status, report: JSON.parse(e.stdout) as DoctorReport };
  }
}

test('a VPN owns the default route (an interface named wg0 in a namespace): local.vpn warns and says how to get around it', { skip: NETNS }, async (t) => {
  const ns = namespace(t, [
    ['link', 'add', 'wg0', 'type', 'veth', 'peer', 'name', 'wgpeer0'],
    ['addr', 'add', '10.66.0.2/24', 'dev', 'wg0'],
    ['link', 'set', 'wg0', 'up'],
    ['link', 'set', 'wgpeer0', 'up'],
    ['route', 'add', 'default', 'dev', 'wg0'],
  ]);
  const { report } = await doctorInNamespace(t, ns, configDir(t, 'port: 8443\nhttpPort: 8080\n'));
  const vpn = check(report, 'local.vpn');
  assert.equal(vpn.status, 'warn');
  assert.match(vpn.value, /^via wg0: a VPN/);
  assert.ok(vpn.fix?.some((f) => /split tunnelling/.test(f)));
  assert.deepEqual(check(report, 'local.lan').details?.addresses, ['10.66.0.2']);
});

test('no network at all (only lo in a namespace): local.lan warns and the verdict is "Only on this computer"', { skip: NETNS }, async (t) => {
  const ns = namespace(t, []);
  const { report } = await doctorInNamespace(t, ns, configDir(t, 'port: 8443\nhttpPort: 8080\n'));
  const lan = check(report, 'local.lan');
  assert.equal(lan.status, 'warn');
  assert.match(lan.value, /^none/);
  assert.match(check(report, 'local.vpn').value, /no default route/);
  assert.equal(report.verdict.kind, 'local');
  assert.match(report.verdict.text, /^Only on this computer \(it has no network address\)/);
});

test('all sections in order, in a namespace with a LAN and no router: one JSON document, exit code from the fails', { skip: NETNS }, async (t) => {
  const ns = namespace(t, [
    ['link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0peer'],
    ['addr', 'add', '10.77.0.2/24', 'dev', 'eth0'],
    ['link', 'set', 'eth0', 'up'],
    ['link', 'set', 'eth0peer', 'up'],
  ]);
  const { code, report } = await doctorInNamespace(t, ns, configDir(t, 'port: 8443\nhttpPort: 8080\n'), []);
  const order = ['local', 'firewall', 'router', 'internet', 'tls', 'calls'];
  const sections = [...new Set(report.checks.map((c) => c.section))];
  assert.deepEqual(sections, order.filter((s) => sections.includes(s as Check['section'])), 'sections in report order');
  assert.ok(sections.includes('local') && sections.includes('firewall'));
  for (const c of report.checks) {
    assert.ok(['ok', 'warn', 'fail'].includes(c.status), `${c.id}: ${c.status}`);
    if (c.status !== 'ok') assert.ok(c.fix === undefined || Array.isArray(c.fix), c.id);
  }
  assert.equal(new Set(report.checks.map((c) => c.id)).size, report.checks.length, 'ids are unique');
  assert.equal(report.ok, !report.checks.some((c) => c.status === 'fail'));
  assert.equal(code, report.ok ? 0 : 1);
  assert.equal(report.verdict.kind, 'lan');
  assert.equal(report.verdict.text, 'Only on your local network (from other devices: https://10.77.0.2:8443)');
});
