// MappingSession logic against a small IGD control endpoint on 127.0.0.1: fallbacks for 606/718, lease 0 after 725, AddAnyPortMapping, renewal, removal of an in-flight mapping on close, stale cleanup.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { tagText } from '../../src/net/igd-description.ts';
import { MappingSession, type SessionOptions } from '../../src/net/session.ts';
import { readNetworkState, updateNetworkState } from '../../src/net/state.ts';
import { UpnpClient } from '../../src/net/upnp-client.ts';

interface Entry {
  internalPort: number;
  internalClient: string;
  description: string;
  lease: number;
}

/** A WANIPConnection control URL that keeps a table and answers like a router with the given rules. */
async function fakeIgd(t: TestContext, rules: { refuseBelow1024?: boolean; permanentOnly?: boolean; taken?: number[]; hold?: () => Promise<void> } = {}) {
  const table = new Map<number, Entry>();
  const calls: Array<{ action: string; body: string }> = [];
  const listeners: Array<() => void> = [];
  const fault = (res: ServerResponse, code: number) => {
    res.writeHead(500, { 'Content-Type': 'text/xml' });
    res.end(`<s:Envelope><s:Body><s:Fault><detail><UPnPError><errorCode>${code}</errorCode><errorDescription>x</errorDescription></UPnPError></detail></s:Fault></s:Body></s:Envelope>`);
  };
  const ok = (res: ServerResponse, action: string, inner = '') => {
    res.writeHead(200, { 'Content-Type': 'text/xml' });
    res.end(`<s:Envelope><s:Body><u:${action}Response>${inner}</u:${action}Response></s:Body></s:Envelope>`);
  };
  const server = createServer(async (req: IncomingMessage, res) => {
    let body = '';
    for await (const c of req) body += c;
    const action = /#(\w+)"/.exec(String(req.headers.soapaction))![1]!;
    calls.push({ action, body });
    for (const l of listeners) l();
    const num = (n: string) => Number(tagText(body, n));
    if (action === 'AddPortMapping' || action === 'AddAnyPortMapping') {
      if (action === 'AddAnyPortMapping' && rules.hold) await rules.hold();
      if (action === 'AddPortMapping' && rules.hold) await rules.hold();
      let ext = num('NewExternalPort');
      const entry = { internalPort: num('NewInternalPort'), internalClient: tagText(body, 'NewInternalClient'), description: tagText(body, 'NewPortMappingDescription'), lease: num('NewLeaseDuration') };
      if (action === 'AddAnyPortMapping') {
        while (table.has(ext) || rules.taken?.includes(ext) || (rules.refuseBelow1024 && ext < 1024)) ext++;
        table.set(ext, entry);
        return ok(res, action, `<NewReservedPort>${ext}</NewReservedPort>`);
      }
      if (rules.refuseBelow1024 && ext < 1024) return fault(res, 606);
      if (rules.taken?.includes(ext)) return fault(res, 718);
      if (rules.permanentOnly && entry.lease !== 0) return fault(res, 725);
      table.set(ext, entry);
      return ok(res, action);
    }
    if (action === 'DeletePortMapping') {
      if (!table.delete(num('NewExternalPort'))) return fault(res, 714);
      return ok(res, action);
    }
    if (action === 'GetSpecificPortMappingEntry') {
      const e = table.get(num('NewExternalPort'));
      if (!e) return fault(res, 714);
      return ok(res, action, `<NewInternalPort>${e.internalPort}</NewInternalPort><NewInternalClient>${e.internalClient}</NewInternalClient><NewEnabled>1</NewEnabled><NewPortMappingDescription>${e.description}</NewPortMappingDescription><NewLeaseDuration>${e.lease}</NewLeaseDuration>`);
    }
    if (action === 'GetGenericPortMappingEntry') {
      const list = [...table.entries()];
      const hit = list[num('NewPortMappingIndex')];
      if (!hit) return fault(res, 713);
      const [ext, e] = hit;
      return ok(res, action, `<NewRemoteHost></NewRemoteHost><NewExternalPort>${ext}</NewExternalPort><NewProtocol>TCP</NewProtocol><NewInternalPort>${e.internalPort}</NewInternalPort><NewInternalClient>${e.internalClient}</NewInternalClient><NewEnabled>1</NewEnabled><NewPortMappingDescription>${e.description}</NewPortMappingDescription><NewLeaseDuration>${e.lease}</NewLeaseDuration>`);
    }
    if (action === 'GetExternalIPAddress') return ok(res, action, '<NewExternalIPAddress>11.11.11.1</NewExternalIPAddress>');
    return fault(res, 401);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const port = (server.address() as AddressInfo).port;
  const client = (version: 1 | 2) =>
    new UpnpClient({ serviceType: `urn:schemas-upnp-org:service:WANIPConnection:${version}`, controlUrl: `http://127.0.0.1:${port}/ctl`, version, friendlyName: 'test' }, '127.0.0.1', 2000);
  /** Resolves once the router has seen `n` calls of `action`. */
  const seen = (action: string, n = 1) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (calls.filter((c) => c.action === action).length >= n) resolve();
      };
      listeners.push(check);
      check();
    });
  return { table, calls, client, seen };
}

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
