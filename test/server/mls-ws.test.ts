// MLS notifications over the WebSocket: mls.commit to every member's sockets, mls.welcome to the addressee only, mls.removal after a leave or a device revocation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api } from '../helpers/client.ts';
import { connect, createSession, createUser, type WsClient } from '../helpers/direct.ts';
import { b64u, fakeCommit, registerDevice, startMlsServer } from './mls-helpers.ts';

/** Asserts that no frame of type `t` arrived before a ping's pong (the socket is in order). */
async function noneOf(c: WsClient, t: string): Promise<void> {
  c.send({ t: 'ping' });
  await c.nextOf('pong');
  assert.deepEqual(c.all.filter((f) => f.t === t), [], `unexpected ${t}`);
}

test('mls.* frames reach exactly the users concerned', async (t) => {
  const s = await startMlsServer();
  t.after(() => s.close());
  const [alice, bob, carol, dave] = await Promise.all(['alice', 'bob', 'carol', 'dave'].map((n) => createUser(s, n)));
  const [aliceDevice, bobDevice, carolDevice] = await Promise.all([alice, bob, carol].map((p) => registerDevice(s, p)));
  const conv: string = (await api(s, alice.cookie, 'POST', '/api/groups', { name: 'G', members: ['bob', 'carol'] })).body.id;
  assert.equal((await api(s, alice.cookie, 'POST', `/api/mls/groups/${conv}`)).status, 201);

  const bobSecond = await createSession(s, bob.user.id);
  const sockets = {
    alice: await connect(s, alice.cookie),
    bob: await connect(s, bob.cookie),
    bobSecond: await connect(s, bobSecond.cookie),
    carol: await connect(s, carol.cookie),
    dave: await connect(s, dave.cookie),
  };
  t.after(() => Promise.all(Object.values(sockets).map((c) => c.close())));

  // A commit that adds Bob's device: everyone in the conversation hears of the commit, only Bob of the Welcome.
  const posted = await api(s, alice.cookie, 'POST', `/api/mls/groups/${conv}/commits`, {
    epoch: 0,
    commit: fakeCommit(conv, 0, 'add-bob'),
    welcome: { bytes: b64u('welcome'), devices: [bobDevice.id] },
  });
  assert.equal(posted.status, 201);
  for (const c of [sockets.alice, sockets.bob, sockets.bobSecond, sockets.carol]) {
    assert.deepEqual(await c.nextOf('mls.commit'), { t: 'mls.commit', conv, epoch: 1, seq: 1 });
  }
  for (const c of [sockets.bob, sockets.bobSecond]) {
    assert.deepEqual(await c.nextOf('mls.welcome'), { t: 'mls.welcome', device: bobDevice.id, conv });
  }
  await noneOf(sockets.dave, 'mls.commit');
  await noneOf(sockets.carol, 'mls.welcome');
  await noneOf(sockets.alice, 'mls.welcome');

  // Carol leaves: the remaining members are told a removal commit is due; Carol is not.
  assert.equal((await api(s, carol.cookie, 'POST', `/api/groups/${conv}/leave`)).status, 204);
  for (const c of [sockets.alice, sockets.bob]) {
    assert.deepEqual(await c.nextOf('mls.removal'), { t: 'mls.removal', conv, userId: carol.user.id });
  }
  await noneOf(sockets.carol, 'mls.removal');
  await noneOf(sockets.dave, 'mls.removal');

  // Bob revokes his device: its leaf must go too.
  assert.equal((await api(s, bob.cookie, 'DELETE', `/api/mls/devices/${bobDevice.id}`)).status, 204);
  assert.deepEqual(await sockets.alice.nextOf('mls.removal'), { t: 'mls.removal', conv, userId: bob.user.id });
  const state = await api(s, alice.cookie, 'GET', `/api/mls/groups/${conv}`);
  assert.deepEqual(
    state.body.pendingRemovals.map((r: any) => [r.userId, r.device ?? null, r.reason]),
    [
      [carol.user.id, null, 'left'],
      [bob.user.id, bobDevice.id, 'device-revoked'],
    ],
  );
  void aliceDevice;
  void carolDevice;
});

test('removing another device signs its session out (cookie refused, socket closed); removing this session’s own device keeps the session', async (t) => {
  const s = await startMlsServer();
  t.after(() => s.close());
  const alice = await createUser(s, 'alice');
  const phone = { ...(await createSession(s, alice.user.id)), user: alice.user };
  const phoneDevice = await registerDevice(s, phone, 'phone');
  const laptopDevice = await registerDevice(s, alice, 'laptop');
  const phoneSocket = await connect(s, phone.cookie);
  t.after(() => phoneSocket.close());

  assert.equal((await api(s, alice.cookie, 'DELETE', `/api/mls/devices/${phoneDevice.id}`)).status, 204);
  assert.equal((await phoneSocket.closed).code, 4001, 'the removed device’s socket is closed as signed out');
  assert.equal((await api(s, phone.cookie, 'GET', '/api/me')).status, 401, 'the removed device’s session is gone');
  assert.equal((await api(s, alice.cookie, 'GET', '/api/me')).status, 200, 'the remover stays signed in');

  assert.equal((await api(s, alice.cookie, 'DELETE', `/api/mls/devices/${laptopDevice.id}`)).status, 204);
  assert.equal((await api(s, alice.cookie, 'GET', '/api/me')).status, 200, 'removing one’s own current device does not sign out');
});
