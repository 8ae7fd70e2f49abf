// External address classification, plain-language router errors, gateway parsing and the state file.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { classifyExternalAddress } from '../../src/net/address-class.ts';
import { natpmpResultText, pcpResultText, timeoutText, upnpErrorText } from '../../src/net/errors.ts';
import { parseProcNetRoute, parseRouteGet, parseWindowsRoutePrint } from '../../src/net/gateway.ts';
import { publicUrlFor } from '../../src/net/public-url.ts';
import { networkStatePath, readNetworkState, updateNetworkState } from '../../src/net/state.ts';

test('external address classes: public, cgnat (100.64/10 edges), private (double NAT), none', () => {
  assert.equal(classifyExternalAddress('11.11.11.1'), 'public');
  assert.equal(classifyExternalAddress('100.64.0.0'), 'cgnat');
  assert.equal(classifyExternalAddress('100.127.255.255'), 'cgnat');
  assert.equal(classifyExternalAddress('100.63.255.255'), 'public');
  assert.equal(classifyExternalAddress('100.128.0.0'), 'public');
  for (const a of ['10.0.0.1', '172.16.5.4', '172.31.255.255', '192.168.1.254', '169.254.3.3']) assert.equal(classifyExternalAddress(a), 'private', a);
  assert.equal(classifyExternalAddress('172.32.0.1'), 'public');
  for (const a of ['', null, undefined, '0.0.0.0', '127.0.0.1', '255.255.255.255', '224.0.0.1', 'garbage']) assert.equal(classifyExternalAddress(a), 'none', String(a));
  assert.equal(classifyExternalAddress('::ffff:100.64.1.1'), 'cgnat');
  assert.equal(classifyExternalAddress('2001:db8::1'), 'public');
  assert.equal(classifyExternalAddress('fd00::1'), 'private');
});

test('UPnP 606, 718, 725, 501 in plain words with the reason the fallbacks use', () => {
  assert.deepEqual(upnpErrorText(606, 443).reason, 'refused');
  assert.match(upnpErrorText(606, 443).text, /refused to forward external port 443.*1024/);
  assert.equal(upnpErrorText(718, 443).reason, 'conflict');
  assert.match(upnpErrorText(718, 443).text, /another device/);
  assert.equal(upnpErrorText(725).reason, 'permanent-only');
  assert.match(upnpErrorText(725).text, /permanent/);
  assert.equal(upnpErrorText(501).reason, 'no-wan');
  assert.match(upnpErrorText(501).text, /no usable internet \(WAN\) address/);
  assert.match(upnpErrorText(999).text, /999/);
});

test('NAT-PMP and PCP result codes in plain words; timeouts say how long we waited', () => {
  assert.equal(natpmpResultText(3).reason, 'no-wan');
  assert.equal(natpmpResultText(2).reason, 'refused');
  assert.equal(pcpResultText(7).reason, 'no-wan');
  assert.match(pcpResultText(2).text, /NOT_AUTHORIZED/);
  assert.match(pcpResultText(200).text, /200/);
  assert.equal(timeoutText('UPnP AddPortMapping', 2000), 'UPnP AddPortMapping: no answer from the router within 2.0 s');
});

test('default gateway from /proc/net/route (lowest metric), macOS route and Windows route print', () => {
  const proc = [
    'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
    'wg0\t00000000\t0100000A\t0003\t0\t0\t50\t00000000\t0\t0\t0',
    'lan0\t00000000\t014DA8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0',
    'lan0\t004DA8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0',
  ].join('\n');
  assert.equal(parseProcNetRoute(proc), '192.168.77.1');
  assert.equal(parseProcNetRoute(proc.split('\n').slice(0, 1).join('\n')), null);
  assert.equal(parseRouteGet('   route to: default\ndestination: default\n    gateway: 192.168.1.1\n  interface: en0\n'), '192.168.1.1');
  assert.equal(parseWindowsRoutePrint('Network Destination        Netmask          Gateway       Interface  Metric\n          0.0.0.0          0.0.0.0      192.168.0.1    192.168.0.23     25\n'), '192.168.0.1');
});

test('public URL leaves out the default port', () => {
  assert.equal(publicUrlFor('https', '11.11.11.1', 443), 'https://11.11.11.1');
  assert.equal(publicUrlFor('https', '11.11.11.1', 8443), 'https://11.11.11.1:8443');
  assert.equal(publicUrlFor('http', '2001:db8::1', 80), 'http://[2001:db8::1]');
});

test('network state: missing or corrupt is empty, writes are atomic and mode 0600, bad entries dropped', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'chatroom-netstate-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.deepEqual(readNetworkState(dir), { version: 1, mappings: [] });
  updateNetworkState(dir, (s) => {
    s.protocol = 'pcp';
    s.mappings.push({ label: 'https', internalPort: 8443, externalPort: 443 });
  });
  assert.equal(statSync(networkStatePath(dir)).mode & 0o777, 0o600);
  assert.deepEqual(readNetworkState(dir).mappings, [{ label: 'https', internalPort: 8443, externalPort: 443 }]);
  assert.doesNotMatch(readFileSync(networkStatePath(dir), 'utf8'), /\d+\.\d+\.\d+\.\d+/, 'no addresses kept');
  writeFileSync(networkStatePath(dir), JSON.stringify({ mappings: [{ label: 'ftp', internalPort: 1, externalPort: 1 }, { label: 'http', internalPort: 'x' }] }));
  assert.deepEqual(readNetworkState(dir).mappings, []);
  writeFileSync(networkStatePath(dir), '{not json');
  assert.deepEqual(readNetworkState(dir), { version: 1, mappings: [] });
});
