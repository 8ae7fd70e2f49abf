// MLS delivery service over HTTP: devices, KeyPackages (once only, last resort), commits (one winner, 409 catch-up), Welcomes, pending removals, backups.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api } from '../helpers/client.ts';
import { b64u, bytesOf, people, registerDevice, startMlsServer, uploadPackages, fakeCommit, tagOf } from './mls-helpers.ts';

test('devices: registration is bound to the session, listed for contacts without labels, revoked by the owner only', async (t) => {
  const s = await startMlsServer();
  t.after(() => s.close());
  const [alice, bob] = await people(s, 'bob');
  const laptop = await registerDevice(s, alice, 'laptop');

  const again = await api(s, alice.cookie, 'POST', '/api/mls/devices', { certificate: b64u('other'), label: 'again' });
  assert.equal(again.status, 409);
  assert.equal(again.body.error.code, 'MLS_DEVICE_EXISTS');

  const own = await api(s, alice.cookie, 'GET', '/api/mls/devices');
  assert.equal(own.status, 200);
  assert.deepEqual(own.body.devices.map((d: any) => [d.id, d.label, d.current]), [[laptop.id, 'laptop', true]]);
  assert.equal(bytesOf(own.body.devices[0].certificate), 'cert:owner:laptop');

  const seen = await api(s, bob.cookie, 'GET', `/api/mls/users/${alice.user.id}/devices`);
  assert.equal(seen.status, 200);
  assert.equal(seen.body.devices.length, 1);
  assert.equal(seen.body.devices[0].id, laptop.id);
  assert.equal(seen.body.devices[0].label, undefined, 'labels are for the owner only');
  assert.equal(seen.body.devices[0].createdAt, undefined, 'registration times are for the owner only');
  assert.equal(typeof own.body.devices[0].createdAt, 'number');

  const notOwner = await api(s, bob.cookie, 'DELETE', `/api/mls/devices/${laptop.id}`);
  assert.equal(notOwner.status, 404);
  await uploadPackages(s, alice, 'alice', 3);
  assert.equal((await api(s, alice.cookie, 'DELETE', `/api/mls/devices/${laptop.id}`)).status, 204);
  assert.deepEqual((await api(s, bob.cookie, 'GET', `/api/mls/users/${alice.user.id}/devices`)).body.devices, []);
  const claim = await api(s, bob.cookie, 'POST', `/api/mls/users/${alice.user.id}/key-packages/claim`, {});
  assert.deepEqual(claim.body, { packages: [], exhausted: [] }, 'a revoked device’s KeyPackages are gone');
});

test('devices: two-step registration — the certificate (which signs the server’s id) follows; until then the device is invisible and inert', async (t) => {
  const s = await startMlsServer();
  t.after(() => s.close());
  const [alice, bob] = await people(s, 'bob');
  const created = await api(s, alice.cookie, 'POST', '/api/mls/devices', { label: 'phone' });
  assert.equal(created.status, 201);
  const id: string = created.body.device.id;
  assert.equal(created.body.device.certificate, '');
  assert.deepEqual((await api(s, bob.cookie, 'GET', `/api/mls/users/${alice.user.id}/devices`)).body.devices, []);
  assert.deepEqual((await api(s, bob.cookie, 'POST', `/api/mls/users/${alice.user.id}/key-packages/claim`, {})).body, { packages: [], exhausted: [] });
  const early = await api(s, alice.cookie, 'POST', '/api/mls/key-packages', { keyPackages: [b64u('kp')] });
  assert.equal(early.status, 409);
  assert.equal(early.body.error.code, 'MLS_DEVICE_UNCERTIFIED');
  const conv: string = (await api(s, alice.cookie, 'POST', '/api/dms', { username: 'bob' })).body.id;
  assert.equal((await api(s, alice.cookie, 'POST', `/api/mls/groups/${conv}`)).body.error.code, 'MLS_DEVICE_UNCERTIFIED');

  // Only the device's own session sets its certificate; another session of Alice's gets 404.
  const { login } = await import('../helpers/client.ts');
  const otherSession = await login(s, alice.user.username, alice.password);
  await registerDevice(s, otherSession, 'tablet');
  const foreign = await api(s, otherSession.cookie, 'PUT', `/api/mls/devices/${id}/certificate`, { certificate: b64u('forged') });
  assert.equal(foreign.status, 404);
  const set = await api(s, alice.cookie, 'PUT', `/api/mls/devices/${id}/certificate`, { certificate: b64u(`cert naming ${id}`) });
  assert.equal(set.status, 200);
  assert.equal(bytesOf(set.body.certificate), `cert naming ${id}`);
  const listed = await api(s, bob.cookie, 'GET', `/api/mls/users/${alice.user.id}/devices`);
  assert.deepEqual(listed.body.devices.map((d: any) => [d.id, bytesOf(d.certificate)]).find((d: string[]) => d[0] === id), [id, `cert naming ${id}`]);
  assert.equal((await api(s, alice.cookie, 'POST', '/api/mls/key-packages', { keyPackages: [b64u('kp')] })).status, 200);
});

test('devices: a new session rebinds the device with its secret; a wrong secret is refused', async (t) => {
  const s = await startMlsServer();
  t.after(() => s.close());
  const [alice] = await people(s);
  const device = await registerDevice(s, alice);
  const { login } = await import('../helpers/client.ts');
  const second = await login(s, alice.user.username, alice.password);
  const noDevice = await api(s, second.cookie, 'GET', '/api/mls/key-packages');
  assert.equal(noDevice.status, 403);
  assert.equal(noDevice.body.error.code, 'MLS_NO_DEVICE');
  const wrong = await api(s, second.cookie, 'POST', `/api/mls/devices/${device.id}/rebind`, { secret: 'guess' });
  assert.equal(wrong.status, 404);
  assert.equal((await api(s, second.cookie, 'POST', `/api/mls/devices/${device.id}/rebind`, { secret: device.rebindSecret })).status, 204);
  assert.equal((await api(s, second.cookie, 'GET', '/api/mls/key-packages')).status, 200);
  // The first session lost the binding: one device, one session.
  assert.equal((await api(s, alice.cookie, 'GET', '/api/mls/key-packages')).body.error.code, 'MLS_NO_DEVICE');
});

test('KeyPackages: each one-time package is handed out once under concurrent claims, then the last resort (kept)', async (t) => {
  const s = await startMlsServer();
  t.after(() => s.close());
  const [alice, bob, carol] = await people(s, 'bob', 'carol');
  await registerDevice(s, alice);
  const N = 20;
  await uploadPackages(s, alice, 'kp', N);
  assert.deepEqual((await api(s, alice.cookie, 'GET', '/api/mls/key-packages')).body, { oneTime: N, hasLastResort: true });

  const claims = await Promise.all(
    Array.from({ length: 30 }, (_, i) => api(s, i % 2 ? bob.cookie : carol.cookie, 'POST', `/api/mls/users/${alice.user.id}/key-packages/claim`, {})),
  );
  for (const c of claims) assert.equal(c.status, 200);
  const handed = claims.map((c) => {
    assert.equal(c.body.packages.length, 1);
    return { kp: bytesOf(c.body.packages[0].keyPackage), lastResort: c.body.packages[0].lastResort };
  });
  const oneTime = handed.filter((h) => !h.lastResort).map((h) => h.kp);
  assert.equal(oneTime.length, N);
  assert.equal(new Set(oneTime).size, N, 'no package twice');
  assert.deepEqual(new Set(oneTime), new Set(Array.from({ length: N }, (_, i) => `kp-${i}`)));
  assert.deepEqual(handed.filter((h) => h.lastResort).map((h) => h.kp), Array(10).fill('kp-last'));
  assert.deepEqual((await api(s, alice.cookie, 'GET', '/api/mls/key-packages')).body, { oneTime: 0, hasLastResort: true });

  // A package is really gone from the database file's live rows, not only from the API.
  const db = (s.store as any).mls.db;
  assert.equal(db.prepare('SELECT count(*) AS n FROM mls_key_packages WHERE last_resort = 0').get().n, 0);
});

test('KeyPackages: a device without any package is reported exhausted; the caller’s own device is skipped', async (t) => {
  const s = await startMlsServer();
  t.after(() => s.close());
  const [alice, bob] = await people(s, 'bob');
  const aliceDevice = await registerDevice(s, alice);
  await uploadPackages(s, alice, 'a', 1);
  const bobDevice = await registerDevice(s, bob);
  const none = await api(s, alice.cookie, 'POST', `/api/mls/users/${bob.user.id}/key-packages/claim`, {});
  assert.deepEqual(none.body, { packages: [], exhausted: [bobDevice.id] });
  const self = await api(s, alice.cookie, 'POST', `/api/mls/users/${alice.user.id}/key-packages/claim`, {});
  assert.deepEqual(self.body, { packages: [], exhausted: [] }, 'own device not claimed');
  const picked = await api(s, bob.cookie, 'POST', `/api/mls/users/${alice.user.id}/key-packages/claim`, { devices: [aliceDevice.id] });
  assert.equal(bytesOf(picked.body.packages[0].keyPackage), 'a-0');
});

/** Alice, Bob and Carol in a group conversation with an MLS group, each with a device. */
async function groupWorld(t: { after(fn: () => Promise<void>): void }) {
  const s = await startMlsServer();
  t.after(() => s.close());
  const [alice, bob, carol, dave] = await people(s, 'bob', 'carol', 'dave');
  const devices = await Promise.all([alice, bob, carol, dave].map((p) => registerDevice(s, p)));
  const conv: string = (await api(s, alice.cookie, 'POST', '/api/groups', { name: 'Trip', members: ['bob', 'carol'] })).body.id;
  const created = await api(s, alice.cookie, 'POST', `/api/mls/groups/${conv}`);
  assert.equal(created.status, 201);
  assert.equal(created.body.epoch, 0);
  return { s, alice, bob, carol, dave, devices, conv };
}

test('commits: parallel commits on one epoch — exactly one wins, the others get 409 with the winner', async (t) => {
  const { s, alice, bob, carol, conv } = await groupWorld(t);
  const posters = [alice, bob, carol, alice, bob, carol];
  const results = await Promise.all(
    posters.map((p, i) => api(s, p.cookie, 'POST', `/api/mls/groups/${conv}/commits`, { epoch: 0, commit: fakeCommit(conv, 0, `commit-${i}`) })),
  );
  const won = results.filter((r) => r.status === 201);
  const lost = results.filter((r) => r.status === 409);
  assert.equal(won.length, 1);
  assert.equal(lost.length, posters.length - 1);
  assert.deepEqual(won[0].body, { seq: 1, epoch: 1 });
  const winner = `commit-${results.indexOf(won[0])}`;
  for (const r of lost) {
    assert.equal(r.body.error.code, 'MLS_STALE_EPOCH');
    assert.equal(r.body.error.currentEpoch, 1);
    assert.equal(r.body.error.hasMore, false);
    assert.deepEqual(r.body.error.commits.map((c: any) => [c.seq, c.epoch, tagOf(c.commit)]), [[1, 0, winner]]);
  }
  // The loser catches up and retries on the new epoch.
  const retry = await api(s, bob.cookie, 'POST', `/api/mls/groups/${conv}/commits`, { epoch: 1, commit: fakeCommit(conv, 1, 'bob-retry') });
  assert.equal(retry.status, 201);
  assert.deepEqual(retry.body, { seq: 2, epoch: 2 });
  const log = await api(s, carol.cookie, 'GET', `/api/mls/groups/${conv}/log?fromEpoch=0`);
  assert.deepEqual(log.body.entries.map((e: any) => tagOf(e.commit)), [winner, 'bob-retry']);
  assert.deepEqual((await api(s, carol.cookie, 'GET', `/api/mls/groups/${conv}/log?fromEpoch=1`)).body.entries.map((e: any) => e.seq), [2]);
  const state = await api(s, carol.cookie, 'GET', `/api/mls/groups/${conv}`);
  assert.equal(state.body.epoch, 2);
  assert.equal(state.body.headSeq, 2);
  // A client claiming an epoch ahead of the group gets 409 with nothing to apply.
  const ahead = await api(s, carol.cookie, 'POST', `/api/mls/groups/${conv}/commits`, { epoch: 9, commit: fakeCommit(conv, 9, 'x') });
  assert.equal(ahead.status, 409);
  assert.deepEqual(ahead.body.error.commits, []);
});

test('groups: a second creation is 409 MLS_GROUP_EXISTS; a member sees MLS_NO_GROUP before one exists', async (t) => {
  const { s, alice, bob, conv } = await groupWorld(t);
  const again = await api(s, bob.cookie, 'POST', `/api/mls/groups/${conv}`);
  assert.equal(again.status, 409);
  assert.equal(again.body.error.code, 'MLS_GROUP_EXISTS');
  assert.equal(again.body.error.group.epoch, 0);
  const dm: string = (await api(s, alice.cookie, 'POST', '/api/dms', { username: 'bob' })).body.id;
  const missing = await api(s, bob.cookie, 'GET', `/api/mls/groups/${dm}`);
  assert.equal(missing.status, 404);
  assert.equal(missing.body.error.code, 'MLS_NO_GROUP');
});

test('Welcomes: stored with the accepted commit only, delivered to the addressed device, deleted on acknowledgement', async (t) => {
  const { s, alice, bob, carol, devices, conv } = await groupWorld(t);
  const [, bobDevice, carolDevice] = devices;
  const welcome = { bytes: b64u('welcome-bob'), devices: [bobDevice.id] };
  // Two racing commits each carry a Welcome: only the winner's is stored.
  const [first, second] = await Promise.all([
    api(s, alice.cookie, 'POST', `/api/mls/groups/${conv}/commits`, { epoch: 0, commit: fakeCommit(conv, 0, 'c-a'), welcome: { ...welcome, bytes: b64u('welcome-a') } }),
    api(s, carol.cookie, 'POST', `/api/mls/groups/${conv}/commits`, { epoch: 0, commit: fakeCommit(conv, 0, 'c-c'), welcome: { ...welcome, bytes: b64u('welcome-c') } }),
  ]);
  const winner = first.status === 201 ? 'welcome-a' : 'welcome-c';
  assert.deepEqual([first.status, second.status].sort(), [201, 409]);

  const got = await api(s, bob.cookie, 'GET', '/api/mls/welcomes');
  assert.equal(got.status, 200);
  assert.deepEqual(got.body.welcomes.map((w: any) => [w.conv, w.epoch, bytesOf(w.welcome)]), [[conv, 1, winner]]);
  assert.deepEqual((await api(s, carol.cookie, 'GET', '/api/mls/welcomes')).body.welcomes, [], 'other devices see nothing');
  assert.equal((await api(s, carol.cookie, 'DELETE', `/api/mls/welcomes/${got.body.welcomes[0].id}`)).status, 404, 'only the addressee acknowledges');
  assert.equal((await api(s, bob.cookie, 'DELETE', `/api/mls/welcomes/${got.body.welcomes[0].id}`)).status, 204);
  assert.deepEqual((await api(s, bob.cookie, 'GET', '/api/mls/welcomes')).body.welcomes, []);
  const db = (s.store as any).mls.db;
  assert.equal(db.prepare('SELECT count(*) AS n FROM mls_welcomes').get().n, 0, 'the Welcome row is deleted');

  // A Welcome for a device outside the conversation is refused, and so is its commit.
  const dave = devices[3];
  const outside = await api(s, alice.cookie, 'POST', `/api/mls/groups/${conv}/commits`, { epoch: 1, commit: fakeCommit(conv, 1, 'c2'), welcome: { bytes: b64u('w'), devices: [dave.id] } });
  assert.equal(outside.status, 400);
  assert.equal(outside.body.error.code, 'MLS_WELCOME_TARGET');
  assert.equal((await api(s, alice.cookie, 'GET', `/api/mls/groups/${conv}`)).body.epoch, 1);
  void carolDevice;
});

test('pending removal: leaving a group and kick/ban from a server are recorded for the group, resolved by a commit; the removed lose access', async (t) => {
  const { s, alice, bob, carol, conv } = await groupWorld(t);
  assert.equal((await api(s, carol.cookie, 'POST', `/api/groups/${conv}/leave`)).status, 204);
  const state = await api(s, alice.cookie, 'GET', `/api/mls/groups/${conv}`);
  assert.deepEqual(state.body.pendingRemovals.map((r: any) => [r.userId, r.reason]), [[carol.user.id, 'left']]);
  // Carol can no longer read or post, and gets the answer for a missing conversation.
  for (const [method, path, body] of [
    ['GET', `/api/mls/groups/${conv}/log`, undefined],
    ['POST', `/api/mls/groups/${conv}/commits`, { epoch: 0, commit: fakeCommit(conv, 0, 'evil') }],
  ] as const) {
    const r = await api(s, carol.cookie, method, path, body);
    assert.equal(r.status, 404);
    assert.equal(r.body.error.code, 'NOT_FOUND');
  }
  // A commit whose poster names someone else leaves Carol's removal pending.
  const unrelated = await api(s, bob.cookie, 'POST', `/api/mls/groups/${conv}/commits`, { epoch: 0, commit: fakeCommit(conv, 0, 'update'), resolvesRemovals: [alice.user.id] });
  assert.equal(unrelated.status, 201);
  assert.deepEqual((await api(s, alice.cookie, 'GET', `/api/mls/groups/${conv}`)).body.pendingRemovals.map((r: any) => [r.userId, r.resolvedBySeq]), [[carol.user.id, undefined]]);
  // The commit that says it removes her marks the removal with its seq; it stays listed, so every
  // client can check after applying seq 2 that Carol is really gone from the roster.
  const removal = await api(s, bob.cookie, 'POST', `/api/mls/groups/${conv}/commits`, { epoch: 1, commit: fakeCommit(conv, 1, 'remove-carol'), resolvesRemovals: [carol.user.id] });
  assert.equal(removal.status, 201);
  assert.deepEqual((await api(s, alice.cookie, 'GET', `/api/mls/groups/${conv}`)).body.pendingRemovals.map((r: any) => [r.userId, r.reason, r.resolvedBySeq]), [[carol.user.id, 'left', 2]]);

  // Server channel: kick and ban.
  const club = (await api(s, alice.cookie, 'POST', '/api/servers', { name: 'Club' })).body;
  const channel: string = club.channels[0].id;
  const { inviteToken } = await import('../helpers/client.ts');
  for (const who of [bob, carol]) {
    assert.equal((await api(s, who.cookie, 'POST', `/api/invites/${await inviteToken(s, { serverId: club.id })}/accept`)).status, 200);
  }
  assert.equal((await api(s, alice.cookie, 'POST', `/api/mls/groups/${channel}`)).status, 201);
  assert.equal((await api(s, alice.cookie, 'POST', `/api/servers/${club.id}/kick`, { userId: bob.user.id })).status, 204);
  assert.equal((await api(s, alice.cookie, 'POST', `/api/servers/${club.id}/ban`, { userId: carol.user.id })).status, 204);
  const channelState = await api(s, alice.cookie, 'GET', `/api/mls/groups/${channel}`);
  assert.deepEqual(
    channelState.body.pendingRemovals.map((r: any) => [r.userId, r.reason]),
    [
      [bob.user.id, 'kicked'],
      [carol.user.id, 'banned'],
    ],
  );
  assert.equal((await api(s, bob.cookie, 'GET', `/api/mls/groups/${channel}/log`)).status, 404);
});

test('backups: owner-only blobs with optimistic concurrency (If-Match version → 409 on a stale write)', async (t) => {
  const s = await startMlsServer();
  t.after(() => s.close());
  const [alice, bob] = await people(s, 'bob');
  const put = (who: typeof alice, kind: string, data: string, version?: string) =>
    api(s, who.cookie, 'PUT', `/api/mls/backup/${kind}`, data, { contentType: 'application/octet-stream', headers: version === undefined ? {} : { 'if-match': version } });

  assert.equal((await api(s, alice.cookie, 'GET', '/api/mls/backup/archive')).status, 404);
  const noVersion = await put(alice, 'archive', 'v1');
  assert.equal(noVersion.status, 428);
  assert.equal(noVersion.body.error.code, 'MLS_VERSION_REQUIRED');
  const first = await put(alice, 'archive', 'archive v1', '"0"');
  assert.equal(first.status, 200);
  assert.deepEqual(first.body, { version: 1 });
  const [a, b] = await Promise.all([put(alice, 'archive', 'from laptop', '"1"'), put(alice, 'archive', 'from phone', '"1"')]);
  assert.deepEqual([a.status, b.status].sort(), [200, 409]);
  const stale = a.status === 409 ? a : b;
  assert.equal(stale.body.error.code, 'MLS_VERSION_CONFLICT');
  assert.equal(stale.body.error.currentVersion, 2);
  const got = await api(s, alice.cookie, 'GET', '/api/mls/backup/archive');
  assert.equal(got.status, 200);
  assert.equal(got.headers.get('etag'), '"2"');
  assert.equal(got.text, a.status === 200 ? 'from laptop' : 'from phone');
  assert.equal((await api(s, bob.cookie, 'GET', '/api/mls/backup/archive')).status, 404, 'only the owner');
  assert.equal((await put(alice, 'account-key', 'wrapped key', '0')).status, 200);
  assert.equal((await put(alice, 'account-key', 'wrapped key v2', '1')).status, 200);
  // A delete names the version it read, like a write.
  const del = (version?: string) => api(s, alice.cookie, 'DELETE', '/api/mls/backup/account-key', undefined, { headers: version === undefined ? {} : { 'if-match': version } });
  const blind = await del();
  assert.equal(blind.status, 428);
  assert.equal(blind.body.error.code, 'MLS_VERSION_REQUIRED');
  const staleDelete = await del('"1"');
  assert.equal(staleDelete.status, 409);
  assert.equal(staleDelete.body.error.code, 'MLS_VERSION_CONFLICT');
  assert.equal(staleDelete.body.error.currentVersion, 2);
  assert.equal((await api(s, bob.cookie, 'DELETE', '/api/mls/backup/account-key', undefined, { headers: { 'if-match': '"2"' } })).status, 404, 'only the owner');
  assert.equal((await del('"2"')).status, 204);
  assert.equal((await api(s, alice.cookie, 'GET', '/api/mls/backup/account-key')).status, 404);
  assert.equal((await del('"3"')).status, 404, 'nothing left to delete');
  // The version never goes back: after the tombstone (3) the next blob is version 4, and a device
  // still holding version 1 or 2 cannot mistake it for the blob it read.
  const after = await put(alice, 'account-key', 'new key', '0');
  assert.deepEqual(after.body, { version: 4 });
  assert.equal((await put(alice, 'account-key', 'from an old device', '2')).body.error.code, 'MLS_VERSION_CONFLICT');
});

test('Welcomes: one addressed to a user who left before pickup is withdrawn, not delivered', async (t) => {
  const { s, alice, carol, devices, conv } = await groupWorld(t);
  const posted = await api(s, alice.cookie, 'POST', `/api/mls/groups/${conv}/commits`, { epoch: 0, commit: fakeCommit(conv, 0, 'add-carol'), welcome: { bytes: b64u('w-carol'), devices: [devices[2].id] } });
  assert.equal(posted.status, 201);
  assert.equal((await api(s, carol.cookie, 'POST', `/api/groups/${conv}/leave`)).status, 204);
  assert.deepEqual((await api(s, carol.cookie, 'GET', '/api/mls/welcomes')).body.welcomes, []);
  assert.deepEqual(await s.store.mls.welcomesFor(devices[2].id), [], 'deleted, not only hidden');
});
