// MLS authorization on every route: signed out → 401; outsiders and former members get the byte-identical answer of a missing conversation, device or Welcome.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, inviteToken, type ApiResponse, type SignedIn } from '../helpers/client.ts';
import { newId } from '../../src/server/auth/tokens.ts';
import { b64u, people, registerDevice, startMlsServer, type TestDevice, fakeCommit, tagOf } from './mls-helpers.ts';

type Call = [method: string, path: string, body?: unknown];

/** Every conversation-scoped MLS route for conversation `id`. */
function groupCalls(id: string): Call[] {
  return [
    ['GET', `/api/mls/groups/${id}`],
    ['POST', `/api/mls/groups/${id}`],
    ['GET', `/api/mls/groups/${id}/log`],
    ['GET', `/api/mls/groups/${id}/log?fromEpoch=0&limit=5`],
    ['POST', `/api/mls/groups/${id}/commits`, { epoch: 0, commit: b64u('c') }],
    ['POST', `/api/mls/groups/${id}/commits`, { epoch: 1, commit: b64u('c'), welcome: { bytes: b64u('w'), devices: [newId()] } }],
  ];
}

function call(s: { url: string }, who: SignedIn | null, [method, path, body]: Call): Promise<ApiResponse> {
  return api(s, who?.cookie ?? null, method, path, body);
}

test('MLS routes: signed out is 401 everywhere', async (t) => {
  const s = await startMlsServer();
  t.after(() => s.close());
  const id = newId();
  const calls: Call[] = [
    ...groupCalls(id),
    ['POST', '/api/mls/devices', { certificate: b64u('c'), label: 'l' }],
    ['GET', '/api/mls/devices'],
    ['DELETE', `/api/mls/devices/${id}`],
    ['POST', `/api/mls/devices/${id}/rebind`, { secret: 's' }],
    ['PUT', `/api/mls/devices/${id}/certificate`, { certificate: b64u('c') }],
    ['GET', `/api/mls/users/${id}/devices`],
    ['POST', '/api/mls/key-packages', { keyPackages: [] }],
    ['GET', '/api/mls/key-packages'],
    ['POST', `/api/mls/users/${id}/key-packages/claim`, {}],
    ['GET', '/api/mls/welcomes'],
    ['DELETE', `/api/mls/welcomes/${id}`],
    ['GET', '/api/mls/backup/archive'],
    ['DELETE', '/api/mls/backup/account-key'],
  ];
  for (const c of calls) {
    const res = await call(s, null, c);
    assert.equal(res.status, 401, `${c[0]} ${c[1]}`);
    assert.equal(res.body.error.code, 'UNAUTHENTICATED');
  }
  const put = await api(s, null, 'PUT', '/api/mls/backup/archive', 'x', { contentType: 'application/octet-stream', headers: { 'if-match': '0' } });
  assert.equal(put.status, 401);
});

test('MLS group routes: an outsider, a former group member, a kicked and a banned server member all get the answer for a missing conversation', async (t) => {
  const s = await startMlsServer();
  t.after(() => s.close());
  const [owner, member, outsider, left, kicked, banned] = await people(s, 'member', 'outsider', 'left', 'kicked', 'banned');
  const devices = new Map<string, TestDevice>();
  for (const p of [owner, member, outsider, left, kicked, banned]) devices.set(p.user.id, await registerDevice(s, p));

  const group: string = (await api(s, owner.cookie, 'POST', '/api/groups', { name: 'G', members: ['member', 'left'] })).body.id;
  const dm: string = (await api(s, owner.cookie, 'POST', '/api/dms', { username: 'member' })).body.id;
  const club = (await api(s, owner.cookie, 'POST', '/api/servers', { name: 'Club' })).body;
  const channel: string = club.channels[0].id;
  for (const who of [member, kicked, banned]) {
    assert.equal((await api(s, who.cookie, 'POST', `/api/invites/${await inviteToken(s, { serverId: club.id })}/accept`)).status, 200);
  }
  for (const conv of [group, dm, channel]) assert.equal((await api(s, owner.cookie, 'POST', `/api/mls/groups/${conv}`)).status, 201);
  assert.equal((await api(s, owner.cookie, 'POST', `/api/mls/groups/${group}/commits`, { epoch: 0, commit: fakeCommit(group, 0, 'c0') })).status, 201);
  assert.equal((await api(s, left.cookie, 'POST', `/api/groups/${group}/leave`)).status, 204);
  assert.equal((await api(s, owner.cookie, 'POST', `/api/servers/${club.id}/kick`, { userId: kicked.user.id })).status, 204);
  assert.equal((await api(s, owner.cookie, 'POST', `/api/servers/${club.id}/ban`, { userId: banned.user.id })).status, 204);
  // A conversation without an MLS group yet: outsiders must not learn that either.
  const bare: string = (await api(s, owner.cookie, 'POST', '/api/groups', { name: 'Bare', members: ['member'] })).body.id;

  const cases: Array<[SignedIn, string]> = [
    [outsider, group],
    [outsider, dm],
    [outsider, channel],
    [outsider, bare],
    [left, group],
    [kicked, channel],
    [banned, channel],
  ];
  for (const [who, conv] of cases) {
    const calls = groupCalls(conv);
    const missingCalls = groupCalls(newId());
    for (let i = 0; i < calls.length; i++) {
      const missing = await call(s, who, missingCalls[i]);
      const denied = await call(s, who, calls[i]);
      assert.equal(missing.status, 404);
      assert.equal(missing.body.error.code, 'NOT_FOUND');
      assert.equal(denied.status, 404, `${who.user.username} ${calls[i][0]} ${calls[i][1]}`);
      assert.equal(denied.text, missing.text, `byte-identical: ${who.user.username} ${calls[i][0]} ${calls[i][1]}`);
    }
  }
  // The members still get through.
  assert.equal((await api(s, member.cookie, 'GET', `/api/mls/groups/${group}/log`)).status, 200);
  assert.equal((await api(s, member.cookie, 'GET', `/api/mls/groups/${bare}`)).body.error.code, 'MLS_NO_GROUP');
});

test('MLS owner-scoped routes: another user’s device or Welcome answers like a missing one; unknown users are 404', async (t) => {
  const s = await startMlsServer();
  t.after(() => s.close());
  const [alice, bob] = await people(s, 'bob');
  const aliceDevice = await registerDevice(s, alice);
  const bobDevice = await registerDevice(s, bob);
  const conv: string = (await api(s, alice.cookie, 'POST', '/api/dms', { username: 'bob' })).body.id;
  await api(s, alice.cookie, 'POST', `/api/mls/groups/${conv}`);
  await api(s, alice.cookie, 'POST', `/api/mls/groups/${conv}/commits`, { epoch: 0, commit: fakeCommit(conv, 0, 'add'), welcome: { bytes: b64u('w'), devices: [bobDevice.id] } });
  const welcomeId: string = (await api(s, bob.cookie, 'GET', '/api/mls/welcomes')).body.welcomes[0].id;

  const pairs: Array<[Call, Call]> = [
    [['DELETE', `/api/mls/devices/${bobDevice.id}`], ['DELETE', `/api/mls/devices/${newId()}`]],
    [['POST', `/api/mls/devices/${bobDevice.id}/rebind`, { secret: bobDevice.rebindSecret }], ['POST', `/api/mls/devices/${newId()}/rebind`, { secret: bobDevice.rebindSecret }]],
    [['DELETE', `/api/mls/welcomes/${welcomeId}`], ['DELETE', `/api/mls/welcomes/${newId()}`]],
  ];
  for (const [real, missing] of pairs) {
    const a = await call(s, alice, real);
    const b = await call(s, alice, missing);
    assert.equal(a.status, 404, `${real[0]} ${real[1]}`);
    assert.equal(a.text, b.text);
  }
  for (const c of [['GET', `/api/mls/users/${newId()}/devices`], ['POST', `/api/mls/users/${newId()}/key-packages/claim`, {}]] as Call[]) {
    const res = await call(s, alice, c);
    assert.equal(res.status, 404);
    assert.equal(res.body.error.code, 'NOT_FOUND');
  }
  // Bob's device, Welcome and backups are untouched by all of that.
  assert.equal((await api(s, bob.cookie, 'GET', '/api/mls/welcomes')).body.welcomes.length, 1);
  assert.equal((await api(s, bob.cookie, 'GET', '/api/mls/devices')).body.devices[0].current, true);
  void aliceDevice;
});

test('MLS device routes: acting as a device without one registered is 403 MLS_NO_DEVICE', async (t) => {
  const s = await startMlsServer();
  t.after(() => s.close());
  const [alice] = await people(s);
  const conv: string = (await api(s, alice.cookie, 'POST', '/api/groups', { name: 'solo', members: [] })).body.id;
  const calls: Call[] = [
    ['POST', '/api/mls/key-packages', { keyPackages: [b64u('k')] }],
    ['GET', '/api/mls/key-packages'],
    ['GET', '/api/mls/welcomes'],
    ['DELETE', `/api/mls/welcomes/${newId()}`],
    ['POST', `/api/mls/groups/${conv}`],
    ['PUT', `/api/mls/devices/${conv}/certificate`, { certificate: b64u('c') }],
  ];
  for (const c of calls) {
    const res = await call(s, alice, c);
    assert.equal(res.status, 403, `${c[0]} ${c[1]}`);
    assert.equal(res.body.error.code, 'MLS_NO_DEVICE');
  }
});
