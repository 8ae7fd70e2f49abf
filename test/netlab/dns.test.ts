// Doctor's internet.dns against a real DNS server in the fake internet (pebble-challtestsrv): the name resolving to the router's external address is ok, to another address fails with the record to fix.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { requirementsSkip } from '../helpers/requires.ts';
import { NetLab, removeLeftovers, sh } from './lab.ts';

const skip = requirementsSkip(
  [
    { pkg: 'miniupnpd', binary: '/usr/sbin/miniupnpd' },
    { pkg: 'nftables', binary: '/usr/sbin/nft' },
    { pkg: 'iproute2', binary: '/usr/sbin/ip' },
    { pkg: 'pebble', binary: '/usr/bin/pebble-challtestsrv' },
  ],
  { root: true },
);
const BIN = join(new URL('../..', import.meta.url).pathname, 'bin', 'chatroom.js');

test('internet.dns: ok when the name points at the router, fail naming both addresses when it does not', { skip }, async (t) => {
  removeLeftovers();
  const lab = await NetLab.create({ name: 'dns', daemon: true, upnp: true, natpmp: false, wanNet: '11.11.11' });
  t.after(() => lab.destroy());
  // `ip netns exec` bind-mounts /etc/netns/<ns>/resolv.conf over /etc/resolv.conf: the LAN host asks the fake internet's DNS.
  const netnsEtc = join('/etc/netns', lab.lan);
  mkdirSync(netnsEtc, { recursive: true });
  t.after(() => rmSync(netnsEtc, { recursive: true, force: true }));
  writeFileSync(join(netnsEtc, 'resolv.conf'), `nameserver ${lab.wanPeer}\n`);

  const dnsServer = lab.spawnIn(lab.wan, '/usr/bin/pebble-challtestsrv', [
    '-dns01', `${lab.wanPeer}:53`,
    '-defaultIPv4', lab.wanIp,
    '-defaultIPv6', '',
    '-http01', '',
    '-https01', '',
    '-tlsalpn01', '',
    '-management', `${lab.wanPeer}:8055`,
  ]);
  await dnsServer.output.waitFor(/Starting management server/, 10_000);

  const dir = mkdtempSync(join(tmpdir(), 'crn-dns-app-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  sh(process.execPath, [BIN, 'init', '--yes', '--dir', dir]);
  const doctor = async (name: string) => {
    const r = await lab.run(lab.lan, process.execPath, [BIN, 'doctor', '--json', '--dir', dir, '--timeout', '1500', '--public-url', `https://${name}:8443`], 30_000);
    const report = JSON.parse(r.stdout) as { checks: Array<{ id: string; status: string; value: string; fix?: string[] }> };
    const c = report.checks.find((x) => x.id === 'internet.dns');
    assert.ok(c, r.stdout);
    return c;
  };

  const good = await doctor('chat.home.test');
  assert.equal(good.status, 'ok', good.value);
  assert.match(good.value, /chat\.home\.test → 11\.11\.11\.1, the router’s internet address/);

  const add = await lab.run(lab.wan, process.execPath, [
    '-e',
    `fetch('http://${lab.wanPeer}:8055/add-a', { method: 'POST', body: JSON.stringify({ host: 'stale.home.test', addresses: ['11.11.11.99'] }) }).then((r) => process.exit(r.ok ? 0 : 1))`,
  ]);
  assert.equal(add.code, 0, add.stderr);
  const bad = await doctor('stale.home.test');
  assert.equal(bad.status, 'fail');
  assert.match(bad.value, /stale\.home\.test → 11\.11\.11\.99, but the router’s internet address is 11\.11\.11\.1/);
  assert.ok(bad.fix?.some((f) => /A record of stale\.home\.test to 11\.11\.11\.1/.test(f)), JSON.stringify(bad.fix));
});
