// What `start` prints about the router (Public line, notes, one-line warnings) for a public, a CGNAT'd-but-accepting and a silent router, and that the event log never gets an address.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { createEventLog } from '../../src/log/eventlog.ts';
import { startPortMapping, type StartMappingOptions } from '../../src/net/start-mapping.ts';
import { fakeIgd } from './fake-igd.ts';

function run(t: TestContext, discover: NonNullable<StartMappingOptions['discover']>) {
  const dataPath = mkdtempSync(join(tmpdir(), 'chatroom-startmap-'));
  t.after(() => rmSync(dataPath, { recursive: true, force: true }));
  const lines = { say: [] as string[], warn: [] as string[], note: [] as string[], log: [] as string[] };
  const mapping = startPortMapping({
    dataPath,
    scheme: 'https',
    port: 8443,
    httpPort: 8080,
    log: createEventLog({ write: (l) => lines.log.push(l) }),
    say: (l) => lines.say.push(l),
    warn: (l) => lines.warn.push(l),
    note: (l) => lines.note.push(l),
    discover,
  });
  t.after(() => mapping.close());
  return { mapping, lines };
}

test('a public router that refuses 443: "Public:  https://<address>:8443", the reason as a note, the HTTP forward as a note', async (t) => {
  const igd = await fakeIgd(t, { refuseBelow1024: true });
  const { mapping, lines } = run(t, async () => [igd.client(1)]);
  const outcome = await mapping.ready;
  assert.deepEqual(lines.say, ['Public:  https://11.11.11.1:8443']);
  assert.deepEqual(lines.warn, []);
  assert.match(lines.note.join('\n'), /refused external port 443, so the public URL carries port 8443/);
  assert.match(lines.note.join('\n'), /HTTP: external port 8080 → 8080/);
  assert.equal(outcome.publicUrl, 'https://11.11.11.1:8443');
  assert.equal(outcome.externalClass, 'public');
  assert.doesNotMatch(lines.log.join(''), /\d+\.\d+\.\d+\.\d+/, 'no address in the event log');
  assert.match(lines.log.join(''), /upnp\.mapped protocol=upnp-igd1 kind=https port=8443 internalPort=8443 lifetimeSeconds=1800/);
  await mapping.close();
  assert.equal(igd.table.size, 0);
});

test('a router behind CGNAT that accepts the mapping anyway: no Public line, one warning that explains CGNAT', async (t) => {
  const igd = await fakeIgd(t, { externalAddress: '100.64.7.9' });
  const { mapping, lines } = run(t, async () => [igd.client(2)]);
  const outcome = await mapping.ready;
  assert.deepEqual(lines.say, []);
  assert.equal(lines.warn.length, 1);
  assert.match(lines.warn[0]!, /100\.64\.7\.9 is a carrier-grade NAT address .* nobody outside can reach this server/);
  assert.equal(outcome.publicUrl, null);
  assert.equal(outcome.externalClass, 'cgnat');
});

test('nothing answers: one warning naming what to do, and the outcome has no URL', async (t) => {
  const { mapping, lines } = run(t, async () => []);
  const outcome = await mapping.ready;
  assert.deepEqual(lines.say, []);
  assert.equal(lines.warn.length, 1);
  assert.match(lines.warn[0]!, /^No port mapping: the router answered none of PCP, NAT-PMP or UPnP\. Serving your local network only \(turn on UPnP or NAT-PMP in the router, or forward TCP port 8443/);
  assert.match(lines.log.join(''), /upnp\.unavailable/);
  assert.equal(outcome.protocol, null);
});
