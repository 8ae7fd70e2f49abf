// MLS notifications over the WebSocket: mls.commit to every member's sockets, mls.welcome to the addressee only, mls.removal after a leave or a device revocation, mls.members after a join or a newly certified device; the one-call group directory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, inviteToken } from '../helpers/client.ts';
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

test('mls.members tells a conversation’s members that someone joined or certified a device, so they can add it', async (t) => {
  const s = await startMlsServer();
  t.after(() => s.close());
  const [alice, bob, dave] = await Promise.all(['alice', 'bob', 'dave'].map((n) => createUser(s, n)));
  const group: string = (await api(s, alice.cookie, 'POST', '/api/groups', { name: 'G', members: ['bob'] })).body.id;
  const sockets = { alice: await connect(s, alice.cookie), bob: await connect(s, bob.cookie), dave: await connect(s, dave.cookie) };
  t.after(() => Promise.all(Object.values(sockets).map((c) => c.close())));
  const inConv = (c: WsClient, conv: string) => c.next((f) => f.t === 'mls.members' && f.conv === conv);

  // Bob's new device comes with its certificate: the group's members hear of it; Dave, outside, does not.
  const bobDevice = await registerDevice(s, bob);
  for (const c of [sockets.alice, sockets.bob]) assert.deepEqual(await inConv(c, group), { t: 'mls.members', conv: group, userId: bob.user.id });
  // A device registered first and certified later is announced when the certificate arrives.
  const aliceSecond = { ...(await createSession(s, alice.user.id)), user: alice.user };
  const bare = await api(s, aliceSecond.cookie, 'POST', '/api/mls/devices', { label: 'phone' });
  assert.equal(bare.status, 201);
  sockets.bob.send({ t: 'ping' });
  await sockets.bob.nextOf('pong');
  assert.equal(sockets.bob.all.some((f) => f.t === 'mls.members' && f.userId === alice.user.id), false, 'an uncertified device is not announced');
  assert.equal((await api(s, aliceSecond.cookie, 'PUT', `/api/mls/devices/${bare.body.device.id}/certificate`, { certificate: b64u('cert:alice:phone') })).status, 200);
  assert.deepEqual(await inConv(sockets.bob, group), { t: 'mls.members', conv: group, userId: alice.user.id });
  assert.equal(sockets.dave.all.some((f) => f.t === 'mls.members'), false, 'no one outside the conversation hears of it');
  // Its first KeyPackages make it addable: announced again; a later top-up is not.
  const upload = (n: number) => api(s, aliceSecond.cookie, 'POST', '/api/mls/key-packages', { keyPackages: Array.from({ length: n }, (_, i) => b64u(`kp-${n}-${i}`)) });
  assert.equal((await upload(2)).status, 200);
  assert.deepEqual(await inConv(sockets.bob, group), { t: 'mls.members', conv: group, userId: alice.user.id });
  assert.equal((await upload(1)).status, 200);
  sockets.bob.send({ t: 'ping' });
  await sockets.bob.nextOf('pong');
  assert.equal(sockets.bob.all.filter((f) => f.t === 'mls.members' && f.userId === alice.user.id).length, 2, 'a top-up is not announced');

  // Dave joins a server through an invite: its channels' members hear of it.
  const server = (await api(s, alice.cookie, 'POST', '/api/servers', { name: 'Club' })).body;
  const channel: string = server.channels[0].id;
  const token = await inviteToken(s, { serverId: server.id });
  assert.equal((await api(s, dave.cookie, 'POST', `/api/invites/${token}/accept`)).status, 200);
  assert.deepEqual(await inConv(sockets.alice, channel), { t: 'mls.members', conv: channel, userId: dave.user.id });
  void bobDevice;
});

test('the group directory lists each member with their certified devices, for members only', async (t) => {
  const s = await startMlsServer();
  t.after(() => s.close());
  const [alice, bob, eve] = await Promise.all(['alice', 'bob', 'eve'].map((n) => createUser(s, n)));
  const group: string = (await api(s, alice.cookie, 'POST', '/api/groups', { name: 'G', members: ['bob'] })).body.id;
  const bobDevice = await registerDevice(s, bob);
  const uncertified = await api(s, alice.cookie, 'POST', '/api/mls/devices', { label: 'no cert yet' });
  assert.equal(uncertified.status, 201);

  const dir = await api(s, alice.cookie, 'GET', `/api/mls/groups/${group}/directory`);
  assert.equal(dir.status, 200, dir.text);
  const byName = Object.fromEntries(dir.body.members.map((m: any) => [m.username, m]));
  assert.deepEqual(Object.keys(byName).sort(), ['alice', 'bob']);
  assert.deepEqual(byName.alice.devices, [], 'a device without its certificate is not listed');
  assert.deepEqual(byName.bob.devices.map((d: any) => [d.id, d.userId]), [[bobDevice.id, bob.user.id]]);
  assert.equal(byName.bob.devices[0].label, undefined, 'labels are for the owner only');

  const outsider = await api(s, eve.cookie, 'GET', `/api/mls/groups/${group}/directory`);
  const missing = await api(s, eve.cookie, 'GET', '/api/mls/groups/cnope000000000000000/directory');
  assert.equal(outsider.status, 404);
  assert.equal(outsider.text, missing.text, 'an outsider gets the answer of a missing conversation');
});

test('the directory pages by user id, and device changes are rate-limited per user', async (t) => {
  const s = await startMlsServer();
  t.after(() => s.close());
  const alice = await createUser(s, 'alice');
  const server = (await api(s, alice.cookie, 'POST', '/api/servers', { name: 'Big' })).body;
  const channel: string = server.channels[0].id;
  for (let i = 0; i < 200; i++) await s.store.addServerMember(server.id, (await createUser(s, `member${i}`)).user.id);

  const first = await api(s, alice.cookie, 'GET', `/api/mls/groups/${channel}/directory`);
  assert.equal(first.status, 200, first.text);
  assert.equal(first.body.members.length, 200);
  assert.equal(first.body.hasMore, true);
  const second = await api(s, alice.cookie, 'GET', `/api/mls/groups/${channel}/directory?after=${first.body.next}`);
  assert.equal(second.body.members.length, 1);
  assert.equal(second.body.hasMore, false);
  const ids = [...first.body.members, ...second.body.members].map((m: any) => m.id);
  assert.equal(new Set(ids).size, 201, 'every member once across the pages');
  assert.deepEqual(ids, [...ids].sort(), 'in user-id order');

  // 20 device changes in a burst, then 429 with Retry-After; nothing is registered past the limit.
  let last;
  for (let i = 0; i < 21; i++) {
    const session = await createSession(s, alice.user.id);
    last = await api(s, session.cookie, 'POST', '/api/mls/devices', { label: `d${i}`, certificate: b64u(`cert:alice:d${i}`) });
    if (i < 16) assert.equal(last.status, 201, `device ${i}`);
  }
  assert.equal(last!.status, 429);
  assert.equal(last!.body.error.code, 'RATE_LIMITED');
});
