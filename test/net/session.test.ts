// MappingSession logic against a small IGD control endpoint on 127.0.0.1: fallbacks for 606/718, lease 0 after 725, AddAnyPortMapping, renewal, removal of an in-flight mapping on close, stale cleanup.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { MappingSession, type SessionOptions } from '../../src/net/session.ts';
import { readNetworkState, updateNetworkState } from '../../src/net/state.ts';
import { fakeIgd } from './fake-igd.ts';

function session(t: TestContext, opts: Partial<SessionOptions> & Pick<SessionOptions, 'discover'>) {
  const dataPath = mkdtempSync(join(tmpdir(), 'chatroom-session-'));
  t.after(() => rmSync(dataPath, { recursive: true, force: true }));
  const s = new MappingSession({ dataPath, leaseSeconds: 1800, ...opts });
  t.after(() => s.close());
  return { s, dataPath };
}

const WANTED = [
  { label: 'https' as const, internalPort: 8443, preferredExternalPort: 443 },
  { label: 'http' as const, internalPort: 8080, preferredExternalPort: 80 },
];

test('606 on 443 and 80: falls back to external = internal, records the refusal; close removes both', async (t) => {
  const igd = await fakeIgd(t, { refuseBelow1024: true });
  const { s, dataPath } = session(t, { discover: async () => [igd.client(1)] });
  assert.equal(await s.discover([8443, 8080]), true);
  const [https, http] = await s.mapAll(WANTED);
  assert.ok(https?.ok && http?.ok);
  assert.equal(https.externalPort, 8443);
  assert.equal(https.lowPortRefused, true);
  assert.equal(http.externalPort, 8080);
  assert.deepEqual([...igd.table.keys()].sort(), [8080, 8443]);
  const add = igd.calls.find((c) => c.action === 'AddPortMapping')!.body;
  assert.match(add, /<NewRemoteHost><\/NewRemoteHost>/);
  assert.match(add, /<NewInternalClient>127\.0\.0\.1<\/NewInternalClient>/);
  assert.match(add, /<NewPortMappingDescription>chatroom<\/NewPortMappingDescription>/);
  const state = readNetworkState(dataPath);
  assert.equal(state.lowPortsRefused, true);
  assert.deepEqual(state.lastExternalPorts, { https: 8443, http: 8080 });
  await s.close();
  assert.equal(igd.table.size, 0);
  assert.deepEqual(readNetworkState(dataPath).mappings, []);
});

test('725 (permanent leases only): maps with lease 0 (no lease to renew) and deletes it on close', async (t) => {
  const igd = await fakeIgd(t, { permanentOnly: true });
  const { s } = session(t, { discover: async () => [igd.client(1)], leaseSeconds: 2 });
  await s.discover([8443]);
  const [r] = await s.mapAll([WANTED[0]!]);
  assert.ok(r?.ok);
  assert.equal(r.lifetimeSeconds, 0);
  assert.equal(igd.table.get(443)?.lease, 0);
  const adds = igd.calls.filter((c) => c.action === 'AddPortMapping').length;
  assert.equal(adds, 2, 'the first try and the lease-0 retry');
  await s.close();
  assert.equal(igd.table.size, 0);
});

test('718 on 443 and on 8443 (IGD:2): AddAnyPortMapping takes the port the router picks', async (t) => {
  const igd = await fakeIgd(t, { taken: [443, 8443] });
  const { s } = session(t, { discover: async () => [igd.client(2)] });
  await s.discover([8443]);
  const [r] = await s.mapAll([WANTED[0]!]);
  assert.ok(r?.ok, JSON.stringify(r));
  assert.equal(r.externalPort, 8444);
  assert.equal(r.preferredTaken, true);
  assert.ok(igd.calls.some((c) => c.action === 'AddAnyPortMapping'));
  await s.close();
  assert.equal(igd.table.size, 0);
});

test('718 everywhere on IGD:1: the error says another device has the port, nothing is left recorded', async (t) => {
  const igd = await fakeIgd(t, { taken: [443, 8443] });
  const { s, dataPath } = session(t, { discover: async () => [igd.client(1)] });
  await s.discover([8443]);
  const [r] = await s.mapAll([WANTED[0]!]);
  assert.ok(r && !r.ok);
  assert.equal(r.error.reason, 'conflict');
  assert.match(r.error.message, /another device \(UPnP 718\)/);
  assert.deepEqual(readNetworkState(dataPath).mappings, []);
});

test('renewal: the same mapping is added again at half the lease', async (t) => {
  const igd = await fakeIgd(t);
  const { s } = session(t, { discover: async () => [igd.client(2)], leaseSeconds: 2 });
  await s.discover([8443]);
  await s.mapAll([WANTED[0]!]);
  const started = Date.now();
  await igd.seen('AddPortMapping', 3);
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= 1500 && elapsed < 4000, `two renewals after ${elapsed} ms (expected ~2 s at 1 s each)`);
  const renewals = igd.calls.filter((c) => c.action === 'AddPortMapping');
  assert.ok(renewals.every((c) => /<NewExternalPort>443<\/NewExternalPort>/.test(c.body)));
});

test('close() while AddPortMapping is in flight: waits for the answer, then deletes the mapping', async (t) => {
  let release: () => void = () => {};
  const held = new Promise<void>((r) => (release = r));
  const igd = await fakeIgd(t, { hold: () => held });
  const { s } = session(t, { discover: async () => [igd.client(1)] });
  await s.discover([8443]);
  const mapping = s.mapAll([WANTED[0]!]);
  await igd.seen('AddPortMapping');
  const closing = s.close();
  release();
  await closing;
  const [r] = await mapping;
  assert.ok(r?.ok, 'the request in flight succeeded');
  assert.equal(igd.table.size, 0, 'and close removed it');
  assert.equal(igd.calls.at(-1)?.action, 'DeletePortMapping');
  assert.deepEqual(await s.mapAll([WANTED[1]!]).then((x) => x[0]?.ok), false, 'a closed session maps nothing');
});

test('stale cleanup: a recorded mapping and an unrecorded chatroom entry of ours go; another device’s entry stays', async (t) => {
  const igd = await fakeIgd(t);
  igd.table.set(443, { internalPort: 8443, internalClient: '127.0.0.1', description: 'chatroom', lease: 1800 });
  igd.table.set(80, { internalPort: 8080, internalClient: '127.0.0.1', description: 'chatroom', lease: 1800 });
  igd.table.set(8443, { internalPort: 8443, internalClient: '192.168.77.20', description: 'chatroom', lease: 1800 });
  igd.table.set(9000, { internalPort: 9000, internalClient: '127.0.0.1', description: 'chatroom', lease: 1800 });
  const { s, dataPath } = session(t, { discover: async () => [igd.client(1)] });
  updateNetworkState(dataPath, (st) => {
    st.protocol = 'upnp-igd1';
    st.mappings = [{ label: 'https', internalPort: 8443, externalPort: 443 }];
  });
  await s.discover([8443, 8080]);
  assert.deepEqual([...igd.table.keys()].sort((a, b) => a - b), [8443, 9000], 'another host’s entry and our other program’s port stay');
  assert.deepEqual(readNetworkState(dataPath).mappings, []);
});
