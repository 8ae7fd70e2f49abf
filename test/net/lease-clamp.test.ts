// A router-granted lease cannot make renewals spin: half the lifetime clamped to [30 s, 12 h] (a 2^32-1 s NAT-PMP answer once overflowed setTimeout into a 1 ms loop), short test leases still renewed.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { test, type TestContext } from 'node:test';
import { NatpmpClient } from '../../src/net/natpmp-client.ts';
import { MAX_RENEWAL_SECONDS, MIN_RENEWAL_SECONDS, MappingSession, renewalDelaySeconds } from '../../src/net/session.ts';

test('renewal delay: half the granted lease within [30 s, 12 h]; the floor follows a shorter lease we asked for', () => {
  assert.equal(renewalDelaySeconds(1800, 1800), 900);
  assert.equal(renewalDelaySeconds(0xffffffff, 1800), MAX_RENEWAL_SECONDS);
  assert.equal(renewalDelaySeconds(Infinity, 1800), MAX_RENEWAL_SECONDS);
  assert.equal(renewalDelaySeconds(Number.NaN, 1800), MAX_RENEWAL_SECONDS);
  assert.equal(renewalDelaySeconds(0, 1800), MIN_RENEWAL_SECONDS);
  assert.equal(renewalDelaySeconds(1, 1800), MIN_RENEWAL_SECONDS);
  assert.equal(renewalDelaySeconds(6, 6), 3, 'the netlab’s 6 s lease renews every 3 s');
  assert.equal(renewalDelaySeconds(0, 6), 3, 'a router granting 0 s still waits the floor');
  assert.equal(renewalDelaySeconds(0xffffffff, 6), MAX_RENEWAL_SECONDS);
  assert.ok(MAX_RENEWAL_SECONDS * 1000 < 2 ** 31 - 1, 'fits setTimeout');
});

/** A NAT-PMP router on 127.0.0.1 that grants every mapping for `lifetimeSeconds`; counts the requests. */
async function fakeNatpmp(t: TestContext, lifetimeSeconds: number) {
  const socket = createSocket('udp4');
  const seen = { maps: 0 };
  socket.on('message', (msg, peer) => {
    if (msg.length < 12 || msg[0] !== 0 || msg[1] !== 2) return;
    seen.maps++;
    const answer = Buffer.alloc(16);
    answer[1] = 0x82;
    answer.writeUInt32BE(1000, 4); // seconds since the router's epoch
    msg.copy(answer, 8, 4, 8); // internal port, then the suggested external port granted as is
    answer.writeUInt32BE(lifetimeSeconds, 12);
    socket.send(answer, peer.port, peer.address);
  });
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  t.after(() => socket.close());
  return { port: socket.address().port, seen };
}

for (const [lifetime, what] of [
  [0xffffffff, 'a 2^32-1 s lease (setTimeout overflow)'],
  [1, 'a 1 s lease'],
] as const) {
  test(`${what}: no renewal in the next 1.5 s, not a loop`, async (t) => {
    const router = await fakeNatpmp(t, lifetime);
    const dataPath = mkdtempSync(join(tmpdir(), 'chatroom-lease-'));
    t.after(() => rmSync(dataPath, { recursive: true, force: true }));
    const client = new NatpmpClient('127.0.0.1', '127.0.0.1', 1000, 1000, router.port);
    const s = new MappingSession({ dataPath, discover: async () => [client] });
    t.after(() => s.close());
    assert.equal(await s.discover([8443]), true);
    const [r] = await s.mapAll([{ label: 'https', internalPort: 8443, preferredExternalPort: 8443 }]);
    assert.ok(r?.ok, JSON.stringify(r));
    assert.equal(r.lifetimeSeconds, lifetime);
    const mapsAfterMapping = router.seen.maps;
    // Asserting an absence: the old code renewed after 1 ms (overflow) or 1 s (half of 1 s, floored).
    await delay(1500);
    assert.equal(router.seen.maps, mapsAfterMapping, `${router.seen.maps - mapsAfterMapping} renewals`);
  });
}
