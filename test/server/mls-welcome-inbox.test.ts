// MLS Welcome inbox bounds: GET /api/mls/welcomes pages by count and bytes, a full inbox refuses the adding commit (507), unpicked Welcomes expire after 14 days, and a user's commit+Welcome bytes have a budget.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, type SignedIn } from '../helpers/client.ts';
import { MlsLimits } from '../../src/shared/mls-api.ts';
import type { TestServer } from '../helpers/server.ts';
import { b64u, fakeCommit, fakeCommitBytes, people, registerDevice, startMlsServer, type TestDevice } from './mls-helpers.ts';

/** Mallory DMs Bob (anyone may): the setting of the inbox-flooding attack. */
async function dmWorld(t: { after(fn: () => Promise<void>): void }, now?: () => number) {
  const s = await startMlsServer({ now });
  t.after(() => s.close());
  const [bob, mallory] = await people(s, 'mallory');
  const bobDevice = await registerDevice(s, bob);
  await registerDevice(s, mallory);
  const conv: string = (await api(s, mallory.cookie, 'POST', '/api/dms', { username: bob.user.username })).body.id;
  assert.equal((await api(s, mallory.cookie, 'POST', `/api/mls/groups/${conv}`)).status, 201);
  return { s, bob, mallory, bobDevice, conv };
}

/** Posts the commit on `epoch` with a Welcome of `size` bytes for `device`. */
function postWelcome(s: TestServer, who: SignedIn, conv: string, epoch: number, device: TestDevice, size: number) {
  const welcome = new Uint8Array(size).fill(0x57);
  return api(s, who.cookie, 'POST', `/api/mls/groups/${conv}/commits`, { epoch, commit: fakeCommit(conv, epoch, `add-${epoch}`), welcome: { bytes: b64u(welcome), devices: [device.id] } });
}

test('Welcome listing pages by count: ≤ welcomePage per page with hasMore and a cursor', async (t) => {
  const { s, bob, mallory, bobDevice, conv } = await dmWorld(t);
  const total = MlsLimits.welcomePage + 4;
  for (let e = 0; e < total; e++) assert.equal((await postWelcome(s, mallory, conv, e, bobDevice, 16)).status, 201);
  const first = await api(s, bob.cookie, 'GET', '/api/mls/welcomes');
  assert.equal(first.status, 200);
  assert.equal(first.body.welcomes.length, MlsLimits.welcomePage);
  assert.equal(first.body.hasMore, true);
  assert.equal(typeof first.body.next, 'string');
  const second = await api(s, bob.cookie, 'GET', `/api/mls/welcomes?after=${first.body.next}`);
  assert.deepEqual(second.body.welcomes.map((w: any) => w.epoch), [17, 18, 19, 20]);
  assert.equal(second.body.hasMore, false);
  assert.equal(second.body.next, undefined);
  const ids = [...first.body.welcomes, ...second.body.welcomes].map((w: any) => w.id);
  assert.equal(new Set(ids).size, total, 'no Welcome on two pages');
  // Acknowledging the first page and asking again from the start gives the rest.
  for (const id of ids.slice(0, MlsLimits.welcomePage)) assert.equal((await api(s, bob.cookie, 'DELETE', `/api/mls/welcomes/${id}`)).status, 204);
  const again = await api(s, bob.cookie, 'GET', '/api/mls/welcomes');
  assert.deepEqual(again.body.welcomes.map((w: any) => w.id), ids.slice(MlsLimits.welcomePage));
  assert.equal((await api(s, bob.cookie, 'GET', '/api/mls/welcomes?after=x')).status, 400);
});

test('Welcome listing pages by bytes: near-1 MiB Welcomes come at most welcomePageBytes per response', async (t) => {
  const { s, bob, mallory, bobDevice, conv } = await dmWorld(t);
  const size = MlsLimits.welcomeBytes - 1024;
  for (let e = 0; e < 6; e++) assert.equal((await postWelcome(s, mallory, conv, e, bobDevice, size)).status, 201);
  const seen: number[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await api(s, bob.cookie, 'GET', `/api/mls/welcomes${after ? `?after=${after}` : ''}`);
    assert.equal(page.status, 200);
    const bytes = page.body.welcomes.reduce((n: number, w: any) => n + Buffer.from(w.welcome, 'base64url').length, 0);
    assert.ok(bytes <= MlsLimits.welcomePageBytes, `page of ${bytes} bytes`);
    assert.ok(page.body.welcomes.length >= 1);
    seen.push(...page.body.welcomes.map((w: any) => w.epoch));
    if (!page.body.hasMore) break;
    after = page.body.next;
  }
  assert.deepEqual(seen, [1, 2, 3, 4, 5, 6]);
});

test('a full Welcome inbox refuses the adding commit with 507 MLS_WELCOME_INBOX_FULL (nothing stored) until Bob picks some up', async (t) => {
  const { s, bob, mallory, bobDevice, conv } = await dmWorld(t);
  for (let e = 0; e < MlsLimits.welcomesPerDevice; e++) assert.equal((await postWelcome(s, mallory, conv, e, bobDevice, 8)).status, 201, `Welcome ${e}`);
  const full = await postWelcome(s, mallory, conv, MlsLimits.welcomesPerDevice, bobDevice, 8);
  assert.equal(full.status, 507);
  assert.equal(full.body.error.code, 'MLS_WELCOME_INBOX_FULL');
  assert.deepEqual(full.body.error.devices, [bobDevice.id]);
  assert.equal((await api(s, bob.cookie, 'GET', `/api/mls/groups/${conv}`)).body.epoch, MlsLimits.welcomesPerDevice, 'the commit was rolled back with it');
  // A commit without a Welcome still goes through, and Bob can page and acknowledge.
  const first = (await api(s, bob.cookie, 'GET', '/api/mls/welcomes')).body.welcomes[0];
  assert.equal((await api(s, bob.cookie, 'DELETE', `/api/mls/welcomes/${first.id}`)).status, 204);
  assert.equal((await postWelcome(s, mallory, conv, MlsLimits.welcomesPerDevice, bobDevice, 8)).status, 201);
});

test('a Welcome nobody picked up within welcomeTtlMs is deleted, not delivered', async (t) => {
  const { s, bob, mallory, bobDevice, conv } = await dmWorld(t);
  const malloryDevice = (await api(s, mallory.cookie, 'GET', '/api/mls/devices')).body.devices[0].id;
  const now = Date.now();
  // Straight into the store with old receive times: one just past the TTL, one just inside it.
  for (const [epoch, age] of [[0, MlsLimits.welcomeTtlMs + 60_000], [1, MlsLimits.welcomeTtlMs - 60_000]] as const) {
    const r = await s.store.mls.appendCommit({
      convId: conv,
      epoch,
      senderDeviceId: malloryDevice,
      data: fakeCommitBytes(conv, epoch, 'add'),
      ts: now - age,
      welcome: { data: new TextEncoder().encode(`w${epoch}`), deviceIds: [bobDevice.id] },
    });
    assert.ok(r.accepted);
  }
  const listed = await api(s, bob.cookie, 'GET', '/api/mls/welcomes');
  assert.deepEqual(listed.body.welcomes.map((w: any) => w.epoch), [2]);
  assert.equal((await s.store.mls.welcomesFor(bobDevice.id)).length, 1, 'the expired one is gone from the database');
});

test('commit + Welcome bytes have a per-user budget (429), besides the request count', async (t) => {
  // A stopped clock: the byte bucket refills only when the test says so.
  let clock = Date.now();
  const { s, bob, mallory, bobDevice, conv } = await dmWorld(t, () => clock);
  const per = MlsLimits.welcomeBytes;
  const fits = Math.floor(MlsLimits.commitByteBurst / (per + 1024));
  assert.ok(fits < MlsLimits.commitBurst && fits < MlsLimits.welcomesPerDevice, 'the byte budget, not another limit, is what stops this');
  for (let epoch = 0; epoch < fits; epoch++) assert.equal((await postWelcome(s, mallory, conv, epoch, bobDevice, per)).status, 201, `Welcome ${epoch}`);
  const limited = await postWelcome(s, mallory, conv, fits, bobDevice, per);
  assert.equal(limited.status, 429);
  assert.equal(limited.body.error.code, 'RATE_LIMITED');
  assert.ok(Number(limited.headers.get('retry-after')) >= 1);
  // Small commits of another user are unaffected.
  assert.equal((await api(s, bob.cookie, 'POST', `/api/mls/groups/${conv}/commits`, { epoch: fits, commit: fakeCommit(conv, fits, 'bob') })).status, 201);
  clock += MlsLimits.commitRefillMs;
  assert.equal((await postWelcome(s, mallory, conv, fits + 1, bobDevice, per)).status, 201, 'refilled');
});
