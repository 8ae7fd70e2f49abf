// Real `chatroom start` and `chatroom doctor` against Debian's miniupnpd in a fake home network, per router kind: mapping, reachability from the internet side, renewal, cleanup on SIGTERM and after SIGKILL.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { requirementsSkip } from '../helpers/requires.ts';
import { LAN_GW, LAN_HOST, LAN_HOST2, NetLab, removeLeftovers, sh, type RouterKind } from './lab.ts';

const skip = requirementsSkip(
  [
    { pkg: 'miniupnpd', binary: '/usr/sbin/miniupnpd' },
    { pkg: 'miniupnpc', binary: '/usr/bin/upnpc' },
    { pkg: 'natpmpc', binary: '/usr/bin/natpmpc' },
    { pkg: 'nftables', binary: '/usr/sbin/nft' },
    { pkg: 'iproute2', binary: '/usr/sbin/ip' },
  ],
  { root: true },
);

const ROOT = new URL('../..', import.meta.url).pathname;
const BIN = join(ROOT, 'bin', 'chatroom.js');
/** Lease for the runs that watch renewal, seconds: renewals every 3 s. */
const SHORT_LEASE = '6';
const PUBLIC = '11.11.11';

/** Time from spawning `chatroom start` to its "Public:" line (or its no-mapping warning), per kind. */
const figures: Array<{ kind: string; outcome: string; ms: number; mappingMs: number }> = [];
let template = '';

/** GET <url>/healthz from namespace `ns` with node (self-signed certificate accepted); stdout is the body. */
function getHealth(lab: NetLab, ns: string, url: string) {
  const script = `const r = require('node:https').get(process.argv[1] + '/healthz', { rejectUnauthorized: false, timeout: 5000 }, (res) => res.pipe(process.stdout)); r.on('timeout', () => r.destroy()); r.on('error', (e) => { console.error(e.code || e.message); process.exitCode = 1; });`;
  return lab.run(ns, process.execPath, ['-e', script, url]);
}

function healthFromInternet(lab: NetLab, url: string) {
  return getHealth(lab, lab.wan, url);
}

function appDir(lab: NetLab): string {
  const dir = join(lab.dir, 'app');
  cpSync(template, dir, { recursive: true });
  return dir;
}

/** `chatroom start` in the LAN namespace; resolves once it has said what the router did. */
async function start(lab: NetLab, dir: string, opts: { env?: NodeJS.ProcessEnv; args?: string[] } = {}) {
  const t0 = performance.now();
  const run = lab.spawnIn(lab.lan, process.execPath, [BIN, 'start', '--dir', dir, ...(opts.args ?? [])], { NO_COLOR: '1', ...opts.env });
  let listeningMs = 0;
  void run.output.waitFor(/is running\./, 30_000).then(() => (listeningMs = Math.round(performance.now() - t0)), () => undefined);
  const m = await run.output.waitFor(/^(Public: {2}(\S+)|! (No port mapping|Port mapping \(|The router).*)$/m, 30_000);
  const ms = Math.round(performance.now() - t0);
  return { ...run, ms, mappingMs: ms - listeningMs, line: m[0], url: m[2] ?? null };
}

async function stopWith(run: { child: import('node:child_process').ChildProcess }, signal: NodeJS.Signals) {
  const exited = once(run.child, 'exit');
  run.child.kill(signal);
  return (await exited) as [number | null, string | null];
}

async function doctor(lab: NetLab, dir: string) {
  const r = await lab.run(lab.lan, process.execPath, [BIN, 'doctor', '--json', '--dir', dir, '--timeout', '1500'], 30_000);
  const report = JSON.parse(r.stdout) as { ok: boolean; checks: Array<{ id: string; status: string; value: string; fix?: string[]; details?: Record<string, unknown> }>; verdict: { kind: string; text: string } };
  const check = (id: string) => {
    const c = report.checks.find((x) => x.id === id);
    assert.ok(c, `doctor has no ${id} check: ${report.checks.map((x) => x.id).join(', ')}`);
    return c;
  };
  return { code: r.code, report, check };
}

async function withLab(kind: RouterKind, body: (lab: NetLab) => Promise<void>, t: { after: (fn: () => Promise<void>) => void }) {
  const lab = await NetLab.create(kind);
  t.after(() => lab.destroy());
  await body(lab);
}

describe('router kinds (netlab)', { skip, concurrency: 1 }, () => {
  before(async () => {
    removeLeftovers();
    template = mkdtempSync(join(tmpdir(), 'crn-template-'));
    sh(process.execPath, [BIN, 'init', '--yes', '--dir', template]);
  });
  after(() => {
    if (template) rmSync(template, { recursive: true, force: true });
    if (figures.length) {
      console.log('\n| router kind | outcome | start → line, ms | of which after "is running", ms |\n|---|---|---|---|');
      for (const f of figures) console.log(`| ${f.kind} | ${f.outcome} | ${f.ms} | ${f.mappingMs} |`);
    }
  });

  test('IGDv2: external 443 and 80 mapped with UPnP, reachable from the internet, renewed, gone after SIGTERM', async (t) => {
    await withLab({ name: 'igd2', daemon: true, upnp: true, natpmp: false, wanNet: PUBLIC }, async (lab) => {
      const dir = appDir(lab);
      const run = await start(lab, dir, { env: { CHATROOM_TEST_PORTMAP_LEASE_SECONDS: SHORT_LEASE } });
      figures.push({ kind: 'UPnP IGDv2', outcome: `public, ${run.url}`, ms: run.ms, mappingMs: run.mappingMs });
      assert.equal(run.url, `https://${lab.wanIp}`, run.output.text);
      assert.equal((await healthFromInternet(lab, run.url!)).stdout, '{"ok":true}');
      const list = (await lab.run(lab.lan, 'upnpc', ['-l'])).stdout;
      assert.match(list, new RegExp(`TCP +443->${LAN_HOST}:8443 +'chatroom'`));
      assert.match(list, new RegExp(`TCP +80->${LAN_HOST}:8080 +'chatroom'`));
      assert.match(run.output.text, /upnp\.mapped protocol=upnp-igd2 kind=https port=443/);
      // First start of this data directory: the host firewall's commands, once.
      await run.output.waitFor(/let the ports in through this computer’s firewall \(shown once/, 10_000);
      assert.doesNotMatch(run.output.text.split('\n').filter((l) => /^\d{4}-\d\d-\d\dT/.test(l)).join('\n'), /\d+\.\d+\.\d+\.\d+/, 'no address in the event log');
      // Renewal: the router sees AddPortMapping for 443 again, with the short lease, without anything printed.
      await lab.routerLog!.waitFor(/AddPortMapping: ext port 443 to 192\.168\.77\.10:8443 protocol TCP for: chatroom leaseduration=6/, 10_000, 2);

      const d = await doctor(lab, dir);
      assert.equal(d.check('router.portmapping').status, 'ok');
      assert.deepEqual(d.check('router.portmapping').details?.protocols, ['upnp-igd2']);
      assert.equal(d.check('router.mapping.https').status, 'ok');
      assert.match(d.check('router.mapping.https').value, /external 443 → this computer:8443/);
      assert.equal(d.check('internet.address').status, 'ok');
      assert.equal(d.check('internet.hairpin').status, 'warn', 'miniupnpd does no NAT loopback');
      assert.equal(d.report.verdict.kind, 'internet');

      const [code] = await stopWith(run, 'SIGTERM');
      assert.equal(code, 0);
      assert.deepEqual(lab.natRules(), []);
      assert.doesNotMatch((await lab.run(lab.lan, 'upnpc', ['-l'])).stdout, /chatroom/);
      assert.notEqual((await healthFromInternet(lab, run.url!)).stdout, '{"ok":true}');
    }, t);
  });

  test('IGDv1 with external 443 taken by another LAN device: falls back to 8443; doctor names the other device', async (t) => {
    await withLab({ name: 'igd1', daemon: true, upnp: true, igdV1: true, natpmp: false, wanNet: PUBLIC, secondLanHost: true }, async (lab) => {
      const other = await lab.run(lab.lan2!, 'upnpc', ['-e', 'other-app', '-a', LAN_HOST2, '8443', '443', 'TCP', '0']);
      assert.match(other.stdout, /is redirected/, other.stdout + other.stderr);
      const dir = appDir(lab);
      const run = await start(lab, dir);
      figures.push({ kind: 'UPnP IGDv1 (443 taken)', outcome: `public, ${run.url}`, ms: run.ms, mappingMs: run.mappingMs });
      assert.equal(run.url, `https://${lab.wanIp}:8443`, run.output.text);
      assert.equal((await healthFromInternet(lab, run.url!)).stdout, '{"ok":true}');
      assert.match(run.output.text, /upnp\.mapped protocol=upnp-igd1 kind=https port=8443/);
      await run.output.waitFor(/already forwards external port 443 to another device/, 5000);
      const d = await doctor(lab, dir);
      assert.deepEqual(d.check('router.portmapping').details?.protocols, ['upnp-igd1']);
      const https = d.check('router.mapping.https');
      assert.equal(https.status, 'warn', JSON.stringify(https));
      assert.match(https.value, new RegExp(`443 is taken by another device \\(${LAN_HOST2.replace(/\./g, '\\.')}:8443`));
      assert.ok(https.fix?.length);
      const [code] = await stopWith(run, 'SIGTERM');
      assert.equal(code, 0);
      const left = (await lab.run(lab.lan, 'upnpc', ['-l'])).stdout;
      assert.doesNotMatch(left, /'chatroom'/);
      assert.match(left, /443->192\.168\.77\.20:8443 +'other-app'/, 'the other device keeps its mapping');
    }, t);
  });

  test('NAT-PMP only (PCP dropped): mapped, matches natpmpc, renewed at half the lease, gone after SIGTERM', async (t) => {
    await withLab({ name: 'natpmp', daemon: true, upnp: false, natpmp: true, blockPcp: true, wanNet: PUBLIC }, async (lab) => {
      const dir = appDir(lab);
      const run = await start(lab, dir, { env: { CHATROOM_TEST_PORTMAP_LEASE_SECONDS: SHORT_LEASE } });
      figures.push({ kind: 'NAT-PMP', outcome: `public, ${run.url}`, ms: run.ms, mappingMs: run.mappingMs });
      assert.equal(run.url, `https://${lab.wanIp}`, run.output.text);
      assert.match(run.output.text, /upnp\.mapped protocol=natpmp kind=https port=443 internalPort=8443 lifetimeSeconds=6/);
      assert.equal((await healthFromInternet(lab, run.url!)).stdout, '{"ok":true}');
      const pmp = await lab.run(lab.lan, 'natpmpc', ['-g', LAN_GW]);
      assert.match(pmp.stdout, new RegExp(`Public IP address : ${lab.wanIp.replace(/\./g, '\\.')}`));
      assert.ok(lab.natRules().some((r) => r.includes(`dnat ip to ${LAN_HOST}:8443`)), lab.natRules().join('\n'));
      await lab.routerLog!.waitFor(/NAT-PMP port mapping request : 443->192\.168\.77\.10:8443 tcp lifetime=6s/, 10_000, 3);
      assert.doesNotMatch(run.output.text, /renewal failed/, 'renewals are quiet');

      // The router's mapping service goes away: one warning line, the server keeps serving, and stop still exits.
      await lab.stopRouter();
      await run.output.waitFor(/^! Port mapping renewal failed for HTTPS: .*; retrying\.$/m, 10_000);
      const [code] = await stopWith(run, 'SIGTERM');
      assert.equal(code, 0);
      assert.equal(run.output.count(/renewal failed for HTTPS/), 1);
    }, t);
  });

  test('a stop signal while the router is still answering a mapping request: nothing is left on the router', async (t) => {
    // NAT-PMP with the low-port ACL: miniupnpd walks its ACL for a free port, so the request for 443 takes seconds.
    await withLab({ name: 'inflight', daemon: true, upnp: false, natpmp: true, blockPcp: true, lowPortAcl: true, wanNet: PUBLIC }, async (lab) => {
      const dir = appDir(lab);
      const run = lab.spawnIn(lab.lan, process.execPath, [BIN, 'start', '--dir', dir], { NO_COLOR: '1' });
      await lab.routerLog!.waitFor(/NAT-PMP port mapping request : 443->192\.168\.77\.10:8443/, 30_000);
      const [code] = await stopWith(run, 'SIGTERM');
      assert.equal(code, 0, run.output.text);
      assert.doesNotMatch(run.output.text, /^Public:/m);
      assert.deepEqual(lab.natRules(), [], 'the mapping granted after the signal was removed before exit');
    }, t);
  });

  test('NAT-PMP router with the low-port ACL hands out 1024 for 443: chatroom moves to external 8443 and 8080 instead', async (t) => {
    await withLab({ name: 'pmplow', daemon: true, upnp: false, natpmp: true, blockPcp: true, lowPortAcl: true, wanNet: PUBLIC }, async (lab) => {
      const dir = appDir(lab);
      const run = await start(lab, dir);
      figures.push({ kind: 'NAT-PMP, ports < 1024 moved', outcome: `public, ${run.url}`, ms: run.ms, mappingMs: run.mappingMs });
      assert.equal(run.url, `https://${lab.wanIp}:8443`, run.output.text);
      assert.match(lab.routerLog!.text, /NAT-PMP port mapping request : 443->192\.168\.77\.10:8443/);
      assert.doesNotMatch(lab.routerLog!.text, /NAT-PMP port mapping request : 80->/, 'after 443 was moved, 80 is not asked for');
      await run.output.waitFor(/HTTP: external port 8080 → 8080/, 20_000);
      const rules = lab.natRules();
      assert.equal(rules.length, 2, `${rules.join('\n')}\n--- router:\n${lab.routerLog!.text.split('\n').filter((l) => /NAT-PMP (port mapping request|TCP port)|removed|Failed/.test(l)).join('\n')}\n--- chatroom:\n${run.output.text}`);
      assert.ok(rules.some((r) => /dport 8443 dnat ip to 192\.168\.77\.10:8443/.test(r)), rules.join('\n'));
      assert.ok(rules.some((r) => /dport 8080 dnat ip to 192\.168\.77\.10:8080/.test(r)), rules.join('\n'));
      assert.equal((await healthFromInternet(lab, run.url!)).stdout, '{"ok":true}');
      const [code] = await stopWith(run, 'SIGTERM');
      assert.equal(code, 0);
      assert.deepEqual(lab.natRules(), []);
    }, t);
  });

  test('PCP: mapped and reachable; after SIGKILL the next start removes the stale mapping (same nonce)', async (t) => {
    await withLab({ name: 'pcp', daemon: true, upnp: false, natpmp: true, wanNet: PUBLIC }, async (lab) => {
      const dir = appDir(lab);
      const run = await start(lab, dir);
      figures.push({ kind: 'PCP', outcome: `public, ${run.url}`, ms: run.ms, mappingMs: run.mappingMs });
      assert.equal(run.url, `https://${lab.wanIp}`, run.output.text);
      assert.match(run.output.text, /upnp\.mapped protocol=pcp kind=https port=443/);
      assert.equal((await healthFromInternet(lab, run.url!)).stdout, '{"ok":true}');
      assert.ok(lab.natRules().some((r) => r.includes(`dnat ip to ${LAN_HOST}:8080`)));

      const [, signal] = await stopWith(run, 'SIGKILL');
      assert.equal(signal, 'SIGKILL');
      assert.ok(lab.natRules().some((r) => r.includes(`dnat ip to ${LAN_HOST}:8080`)), 'SIGKILL leaves the mapping (until its lease ends)');

      // The next run uses another HTTP port, so only the cleanup can remove the old 80 → 8080.
      const next = await start(lab, dir, { args: ['--http-port', '8081'] });
      assert.equal(next.url, `https://${lab.wanIp}`, next.output.text);
      const rules = lab.natRules();
      assert.ok(!rules.some((r) => r.includes(`${LAN_HOST}:8080`)), `stale 8080 mapping still there:\n${rules.join('\n')}`);
      assert.ok(rules.some((r) => r.includes(`${LAN_HOST}:8081`)));
      const [code] = await stopWith(next, 'SIGTERM');
      assert.equal(code, 0);
      assert.deepEqual(lab.natRules(), []);

      // --no-upnp: the router is not asked at all.
      const requestsBefore = lab.routerLog!.count(/PCP request received|NAT-PMP request received/);
      const quiet = lab.spawnIn(lab.lan, process.execPath, [BIN, 'start', '--dir', dir, '--no-upnp'], { NO_COLOR: '1' });
      await quiet.output.waitFor(/Press Ctrl\+C to stop\./, 30_000);
      const [quietCode] = await stopWith(quiet, 'SIGTERM');
      assert.equal(quietCode, 0);
      assert.equal(lab.routerLog!.count(/PCP request received|NAT-PMP request received/), requestsBefore);
      assert.doesNotMatch(quiet.output.text, /Public:|port mapping/i);
    }, t);
  });

  test('router refusing external ports < 1024 (UPnP 606): falls back to 8443 and 8080; doctor reports the refusal; after SIGKILL the next start removes the stale UPnP mapping', async (t) => {
    await withLab({ name: 'lowports', daemon: true, upnp: true, igdV1: true, natpmp: false, lowPortAcl: true, wanNet: PUBLIC }, async (lab) => {
      const dir = appDir(lab);
      const run = await start(lab, dir);
      figures.push({ kind: 'UPnP, ports < 1024 refused', outcome: `public, ${run.url}`, ms: run.ms, mappingMs: run.mappingMs });
      assert.equal(run.url, `https://${lab.wanIp}:8443`, run.output.text);
      await run.output.waitFor(/the router refused external port 443, so the public URL carries port 8443/, 5000);
      assert.equal((await healthFromInternet(lab, run.url!)).stdout, '{"ok":true}');
      assert.match((await lab.run(lab.lan, 'upnpc', ['-l'])).stdout, /TCP +8080->192\.168\.77\.10:8080 +'chatroom'/);
      const d = await doctor(lab, dir);
      assert.equal(d.check('router.lowports').status, 'warn');
      assert.match(d.check('router.lowports').value, /refused external port 443/);
      assert.equal(d.check('router.mapping.https').status, 'ok');
      assert.equal(d.report.verdict.kind, 'internet');
      assert.match(d.report.verdict.text, /https:\/\/11\.11\.11\.1:8443/);

      // SIGKILL, then a start with another HTTP port: the UPnP cleanup removes the old 8080 → 8080.
      await stopWith(run, 'SIGKILL');
      assert.match((await lab.run(lab.lan, 'upnpc', ['-l'])).stdout, /8080->192\.168\.77\.10:8080 +'chatroom'/);
      const next = await start(lab, dir, { args: ['--http-port', '8081'] });
      assert.equal(next.url, `https://${lab.wanIp}:8443`, next.output.text);
      const list = (await lab.run(lab.lan, 'upnpc', ['-l'])).stdout;
      assert.doesNotMatch(list, /->192\.168\.77\.10:8080 /, list);
      assert.match(list, /8081->192\.168\.77\.10:8081 +'chatroom'/);
      const [code] = await stopWith(next, 'SIGTERM');
      assert.equal(code, 0);
      assert.deepEqual(lab.natRules(), []);
    }, t);
  });

  test('CGNAT (router WAN 100.64.11.1): start says why nobody outside can reach it; doctor fails internet.address as cgnat', async (t) => {
    await withLab({ name: 'cgnat', daemon: true, upnp: true, natpmp: true, wanNet: '100.64.11' }, async (lab) => {
      const dir = appDir(lab);
      const run = await start(lab, dir);
      await run.output.waitFor(/carrier-grade NAT/, 20_000);
      figures.push({ kind: 'CGNAT', outcome: 'LAN only, "carrier-grade NAT" explained', ms: run.ms, mappingMs: run.mappingMs });
      assert.doesNotMatch(run.output.text, /^Public:/m);
      const lanHealth = await getHealth(lab, lab.rtr, `https://${LAN_HOST}:8443`);
      assert.equal(lanHealth.stdout, '{"ok":true}', 'still serves the LAN');
      const d = await doctor(lab, dir);
      assert.equal(d.code, 1);
      const a = d.check('internet.address');
      assert.equal(a.status, 'fail');
      assert.equal(a.details?.class, 'cgnat');
      assert.ok(a.fix?.some((f) => /public IPv4/.test(f)) && a.fix.some((f) => /IPv6/.test(f)) && a.fix.some((f) => /VPS/.test(f)), JSON.stringify(a.fix));
      assert.equal(d.report.verdict.kind, 'lan');
      const [code] = await stopWith(run, 'SIGTERM');
      assert.equal(code, 0);
      assert.deepEqual(lab.natRules(), []);
    }, t);
  });

  test('double NAT (router WAN 192.168.1.1): doctor fails internet.address as private with bridge-mode advice', async (t) => {
    await withLab({ name: 'doublenat', daemon: true, upnp: true, natpmp: true, wanNet: '192.168.1' }, async (lab) => {
      const dir = appDir(lab);
      const run = await start(lab, dir);
      await run.output.waitFor(/double NAT/, 20_000);
      figures.push({ kind: 'double NAT', outcome: 'LAN only, "double NAT" explained', ms: run.ms, mappingMs: run.mappingMs });
      const d = await doctor(lab, dir);
      const a = d.check('internet.address');
      assert.equal(a.status, 'fail');
      assert.equal(a.details?.class, 'private');
      assert.ok(a.fix?.some((f) => /bridge mode/.test(f)));
      const [code] = await stopWith(run, 'SIGTERM');
      assert.equal(code, 0);
    }, t);
  });

  test('no mapping protocol at all: said once, the LAN is still served, doctor says the router answers none', async (t) => {
    await withLab({ name: 'none', daemon: false, upnp: false, natpmp: false, wanNet: PUBLIC }, async (lab) => {
      const dir = appDir(lab);
      const run = await start(lab, dir);
      figures.push({ kind: 'no UPnP/NAT-PMP/PCP', outcome: 'LAN only, "No port mapping" once', ms: run.ms, mappingMs: run.mappingMs });
      assert.match(run.line, /^! No port mapping: the router answered none of PCP, NAT-PMP or UPnP/);
      assert.equal(run.output.count(/No port mapping/), 1);
      const lanHealth = await getHealth(lab, lab.rtr, `https://${LAN_HOST}:8443`);
      assert.equal(lanHealth.stdout, '{"ok":true}');
      const d = await doctor(lab, dir);
      const pm = d.check('router.portmapping');
      assert.equal(pm.status, 'warn');
      assert.deepEqual(pm.details?.protocols, []);
      assert.ok(pm.fix?.some((f) => /Turn on UPnP/.test(f)));
      assert.equal(d.check('internet.address').status, 'warn');
      assert.equal(d.report.verdict.kind, 'lan');
      const [code] = await stopWith(run, 'SIGTERM');
      assert.equal(code, 0);
      assert.equal(run.output.count(/No port mapping/), 1, 'said once');
    }, t);
  });
});
