// MLS input limits: malformed and oversized input get stable error codes (never a crash), caps on devices and KeyPackages, log paging, and the claim and commit rate limits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, login } from '../helpers/client.ts';
import { MlsLimits } from '../../src/shared/mls-api.ts';
import { b64u, people, registerDevice, startMlsServer, fakeCommit, tagOf } from './mls-helpers.ts';

const bytes = (n: number) => b64u(new Uint8Array(n).fill(0x61));

test('malformed MLS input: 400 BAD_REQUEST naming the field, size limits, and the server keeps serving', async (t) => {
  const s = await startMlsServer();
  t.after(() => s.close());
  const [alice] = await people(s);
  const bad: Array<[string, string, unknown]> = [
    ['POST', '/api/mls/devices', { certificate: 'not+base64url', label: 'l' }],
    ['POST', '/api/mls/devices', { certificate: 'abcde', label: 'l' }],
    ['POST', '/api/mls/devices', { certificate: bytes(MlsLimits.certificateBytes + 1), label: 'l' }],
    ['POST', '/api/mls/devices', { certificate: b64u('c'), label: '' }],
    ['POST', '/api/mls/devices', { certificate: b64u('c'), label: 'x'.repeat(MlsLimits.labelChars + 1) }],
    ['POST', '/api/mls/devices', { certificate: b64u('c'), label: 'l', extra: 1 }],
    ['POST', '/api/mls/devices', { certificate: 42, label: 'l' }],
  ];
  for (const [method, path, body] of bad) {
    const res = await api(s, alice.cookie, method, path, body);
    assert.equal(res.status, 400, JSON.stringify(body).slice(0, 80));
    assert.equal(res.body.error.code, 'BAD_REQUEST');
    assert.doesNotMatch(res.body.error.message, /not\+base64url|abcde/, 'the message never echoes the value');
  }
  await registerDevice(s, alice);
  const conv: string = (await api(s, alice.cookie, 'POST', '/api/groups', { name: 'g', members: [] })).body.id;
  await api(s, alice.cookie, 'POST', `/api/mls/groups/${conv}`);
  const badDevice: Array<[string, string, unknown]> = [
    ['POST', '/api/mls/key-packages', { keyPackages: [bytes(MlsLimits.keyPackageBytes + 1)] }],
    ['POST', '/api/mls/key-packages', { keyPackages: Array(MlsLimits.keyPackagesPerUpload + 1).fill(b64u('k')) }],
    ['POST', '/api/mls/key-packages', { keyPackages: [''] }],
    ['POST', '/api/mls/key-packages', { lastResort: b64u('k') }],
    ['POST', `/api/mls/groups/${conv}/commits`, { epoch: -1, commit: b64u('c') }],
    ['POST', `/api/mls/groups/${conv}/commits`, { epoch: 1.5, commit: b64u('c') }],
    ['POST', `/api/mls/groups/${conv}/commits`, { epoch: 0, commit: bytes(MlsLimits.commitBytes + 1) }],
    ['POST', `/api/mls/groups/${conv}/commits`, { epoch: 0, commit: b64u('c'), welcome: { bytes: b64u('w'), devices: [] } }],
    ['POST', `/api/mls/groups/${conv}/commits`, { epoch: 0, commit: b64u('c'), welcome: { bytes: b64u('w'), devices: ['bad id!'] } }],
    ['GET', `/api/mls/groups/${conv}/log?limit=0`, undefined],
    ['GET', `/api/mls/groups/${conv}/log?limit=${MlsLimits.logPage + 1}`, undefined],
    ['GET', `/api/mls/groups/${conv}/log?fromEpoch=-1`, undefined],
    ['GET', `/api/mls/groups/${conv}/log?other=1`, undefined],
    ['GET', '/api/mls/users/not%20an%20id/devices', undefined],
  ];
  for (const [method, path, body] of badDevice) {
    const res = await api(s, alice.cookie, method, path, body);
    assert.equal(res.status, 400, `${method} ${path} ${JSON.stringify(body)?.slice(0, 80)}`);
    assert.equal(res.body.error.code, 'BAD_REQUEST');
  }
  // Larger than the route accepts at all: 413 before any parsing.
  const huge = await api(s, alice.cookie, 'POST', '/api/mls/key-packages', { keyPackages: [bytes(1024 * 1024)] });
  assert.equal(huge.status, 413);
  assert.equal(huge.body.error.code, 'BODY_TOO_LARGE');
  assert.equal((await api(s, alice.cookie, 'GET', `/api/mls/groups/${conv}`)).body.epoch, 0, 'nothing was accepted');
  assert.equal((await api(s, alice.cookie, 'GET', '/api/mls/key-packages')).status, 200, 'still serving');
});

test('backup blobs: size limits per kind, a clear error for a bad If-Match or a JSON body', async (t) => {
  const s = await startMlsServer();
  t.after(() => s.close());
  const [alice] = await people(s);
  const put = (kind: string, body: string, headers: Record<string, string>, contentType = 'application/octet-stream') =>
    api(s, alice.cookie, 'PUT', `/api/mls/backup/${kind}`, body, { contentType, headers });
  const tooBig = await put('account-key', 'k'.repeat(MlsLimits.accountKeyBytes + 1), { 'if-match': '0' });
  assert.equal(tooBig.status, 413);
  assert.equal(tooBig.body.error.code, 'BODY_TOO_LARGE');
  assert.equal((await put('account-key', 'k'.repeat(MlsLimits.accountKeyBytes), { 'if-match': '0' })).status, 200);
  const archiveTooBig = await put('archive', 'a'.repeat(MlsLimits.archiveBytes + 1), { 'if-match': '0' });
  assert.equal(archiveTooBig.status, 413);
  assert.equal(archiveTooBig.body.error.code, 'BODY_TOO_LARGE');
  const badMatch = await put('archive', 'a', { 'if-match': 'W/"abc"' });
  assert.equal(badMatch.status, 400);
  assert.equal(badMatch.body.error.code, 'BAD_REQUEST');
  const json = await put('archive', '{"a":1}', { 'if-match': '0' }, 'application/json');
  assert.equal(json.status, 400);
  assert.equal(json.body.error.code, 'BAD_REQUEST');
  const empty = await api(s, alice.cookie, 'PUT', '/api/mls/backup/archive', '', { contentType: 'application/octet-stream', headers: { 'if-match': '0' } });
  assert.equal(empty.status, 400);
  const kind = await put('everything', 'a', { 'if-match': '0' });
  assert.equal(kind.status, 400);
  assert.equal(kind.body.error.code, 'BAD_REQUEST');
});

test('caps: devices per user and one-time KeyPackages per device', async (t) => {
  const s = await startMlsServer();
  t.after(() => s.close());
  const [alice] = await people(s);
  await registerDevice(s, alice, 'first');
  for (let i = 1; i < MlsLimits.devicesPerUser; i++) await registerDevice(s, await login(s, alice.user.username, alice.password), `d${i}`);
  const extra = await login(s, alice.user.username, alice.password);
  const refused = await api(s, extra.cookie, 'POST', '/api/mls/devices', { certificate: b64u('c'), label: 'one too many' });
  assert.equal(refused.status, 409);
  assert.equal(refused.body.error.code, 'MLS_DEVICE_LIMIT');

  const batch = (prefix: string, n: number) => ({ keyPackages: Array.from({ length: n }, (_, i) => b64u(`${prefix}${i}`)) });
  for (let i = 0; i < MlsLimits.keyPackagesPerDevice / MlsLimits.keyPackagesPerUpload; i++) {
    assert.equal((await api(s, alice.cookie, 'POST', '/api/mls/key-packages', batch(`b${i}-`, MlsLimits.keyPackagesPerUpload))).status, 200);
  }
  const over = await api(s, alice.cookie, 'POST', '/api/mls/key-packages', { ...batch('over', 1), lastResort: b64u('last') });
  assert.equal(over.status, 409);
  assert.equal(over.body.error.code, 'MLS_KEY_PACKAGE_LIMIT');
  assert.deepEqual((await api(s, alice.cookie, 'GET', '/api/mls/key-packages')).body, { oneTime: MlsLimits.keyPackagesPerDevice, hasLastResort: false }, 'nothing stored');
  // A last-resort-only upload still works at the cap.
  assert.deepEqual((await api(s, alice.cookie, 'POST', '/api/mls/key-packages', { keyPackages: [], lastResort: b64u('last') })).body, { oneTime: MlsLimits.keyPackagesPerDevice, hasLastResort: true });
});

test('claims are rate limited per requester, one token per device claimed (429 with Retry-After)', async (t) => {
  const s = await startMlsServer();
  t.after(() => s.close());
  const [alice, mallory, bob] = await people(s, 'mallory', 'bob');
  await registerDevice(s, alice, 'd0');
  for (let i = 1; i < MlsLimits.devicesPerUser; i++) await registerDevice(s, await login(s, alice.user.username, alice.password), `d${i}`);
  const claim = (who: typeof alice) => api(s, who.cookie, 'POST', `/api/mls/users/${alice.user.id}/key-packages/claim`, {});
  const allowed = Math.floor(MlsLimits.claimBurst / MlsLimits.devicesPerUser);
  for (let i = 0; i < allowed; i++) assert.equal((await claim(mallory)).status, 200, `claim ${i}`);
  const limited = await claim(mallory);
  assert.equal(limited.status, 429);
  assert.equal(limited.body.error.code, 'RATE_LIMITED');
  assert.ok(Number(limited.headers.get('retry-after')) >= 1);
  assert.equal((await claim(bob)).status, 200, 'another requester is not affected');
});

test('commits are rate limited per user (429 with Retry-After); other members still commit', async (t) => {
  const s = await startMlsServer();
  t.after(() => s.close());
  const [alice, bob] = await people(s, 'bob');
  await registerDevice(s, alice);
  await registerDevice(s, bob);
  const conv: string = (await api(s, alice.cookie, 'POST', '/api/dms', { username: 'bob' })).body.id;
  await api(s, alice.cookie, 'POST', `/api/mls/groups/${conv}`);
  // Lost races count too: they cost the server a transaction each.
  for (let i = 0; i < MlsLimits.commitBurst; i++) {
    const res = await api(s, alice.cookie, 'POST', `/api/mls/groups/${conv}/commits`, { epoch: i % 2 === 0 ? i / 2 : 0, commit: fakeCommit(conv, i % 2 === 0 ? i / 2 : 0, `c${i}`) });
    assert.ok(res.status === 201 || res.status === 409, `commit ${i}: ${res.status}`);
  }
  const limited = await api(s, alice.cookie, 'POST', `/api/mls/groups/${conv}/commits`, { epoch: 0, commit: fakeCommit(conv, 0, 'one more') });
  assert.equal(limited.status, 429);
  assert.equal(limited.body.error.code, 'RATE_LIMITED');
  assert.ok(Number(limited.headers.get('retry-after')) >= 1);
  const epoch: number = (await api(s, bob.cookie, 'GET', `/api/mls/groups/${conv}`)).body.epoch;
  assert.equal((await api(s, bob.cookie, 'POST', `/api/mls/groups/${conv}/commits`, { epoch, commit: fakeCommit(conv, epoch, 'bob') })).status, 201);
});

test('log paging: a far-behind client gets the first page of winners in the 409 and pages the rest with GET', async (t) => {
  const s = await startMlsServer();
  t.after(() => s.close());
  const [alice, bob] = await people(s, 'bob');
  await registerDevice(s, alice);
  await registerDevice(s, bob);
  const conv: string = (await api(s, alice.cookie, 'POST', '/api/dms', { username: 'bob' })).body.id;
  await api(s, alice.cookie, 'POST', `/api/mls/groups/${conv}`);
  const total = MlsLimits.logPage + 5;
  for (let e = 0; e < total; e++) assert.equal((await api(s, alice.cookie, 'POST', `/api/mls/groups/${conv}/commits`, { epoch: e, commit: fakeCommit(conv, e, `c${e}`) })).status, 201);
  const stale = await api(s, bob.cookie, 'POST', `/api/mls/groups/${conv}/commits`, { epoch: 0, commit: fakeCommit(conv, 0, 'late') });
  assert.equal(stale.status, 409);
  assert.equal(stale.body.error.currentEpoch, total);
  assert.equal(stale.body.error.commits.length, MlsLimits.logPage);
  assert.equal(stale.body.error.hasMore, true);
  const rest = await api(s, bob.cookie, 'GET', `/api/mls/groups/${conv}/log?fromEpoch=${MlsLimits.logPage}`);
  assert.deepEqual(rest.body.entries.map((e: any) => e.epoch), [100, 101, 102, 103, 104]);
  assert.equal(rest.body.hasMore, false);
  const page = await api(s, bob.cookie, 'GET', `/api/mls/groups/${conv}/log?fromEpoch=3&limit=2`);
  assert.deepEqual(page.body.entries.map((e: any) => e.seq), [4, 5]);
  assert.equal(page.body.hasMore, true);
});

test('claims are limited per target too: past claimTargetBurst, requesters together get only the last-resort package', async (t) => {
  // Real time for the setup, then a stopped clock: buckets refill only when the test says so.
  let clock: number | null = null;
  const s = await startMlsServer({ now: () => clock ?? Date.now() });
  t.after(() => s.close());
  const [alice, mallory, bob] = await people(s, 'mallory', 'bob');
  const aliceSessions = [alice, await login(s, alice.user.username, alice.password)];
  // Two devices, so one claim takes two packages: the stock outgrows the target's budget.
  const perDevice = MlsLimits.claimTargetBurst / 2 + 10;
  assert.ok(perDevice <= MlsLimits.keyPackagesPerDevice);
  for (const [d, session] of aliceSessions.entries()) {
    await registerDevice(s, session, `d${d}`);
    for (let i = 0; i < perDevice; i += MlsLimits.keyPackagesPerUpload) {
      const n = Math.min(MlsLimits.keyPackagesPerUpload, perDevice - i);
      const res = await api(s, session.cookie, 'POST', '/api/mls/key-packages', { keyPackages: Array.from({ length: n }, (_, j) => b64u(`kp${d}-${i + j}`)), lastResort: b64u(`last${d}`) });
      assert.equal(res.status, 200);
    }
  }
  clock = Date.now();
  // Two requesters, each well inside their own claimBurst, share the target's budget.
  const claimsInBudget = MlsLimits.claimTargetBurst / 2;
  assert.ok(claimsInBudget < MlsLimits.claimBurst);
  const kinds: boolean[] = [];
  for (let i = 0; i < claimsInBudget + 5; i++) {
    const res = await api(s, (i % 2 ? mallory : bob).cookie, 'POST', `/api/mls/users/${alice.user.id}/key-packages/claim`, {});
    assert.equal(res.status, 200);
    assert.equal(res.body.packages.length, 2);
    kinds.push(res.body.packages.every((p: any) => p.lastResort));
  }
  assert.deepEqual(kinds.slice(0, claimsInBudget), Array(claimsInBudget).fill(false));
  assert.deepEqual(kinds.slice(claimsInBudget), Array(5).fill(true), 'the last resort, not another one-time package');
  assert.deepEqual((await api(s, alice.cookie, 'GET', '/api/mls/key-packages')).body, { oneTime: 10, hasLastResort: true }, 'the rest of the stock survives');
  clock += MlsLimits.claimRefillMs;
  const later = await api(s, bob.cookie, 'POST', `/api/mls/users/${alice.user.id}/key-packages/claim`, {});
  assert.equal(later.body.packages[0].lastResort, false, 'refilled');
});
