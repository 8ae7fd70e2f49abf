// MLS handshake log bounds: GET …/log and the 409 catch-up list stop at logPageBytes (then hasMore), log reads are rate limited per user, and one commit is at most 128 KiB.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api } from '../helpers/client.ts';
import { MlsLimits } from '../../src/shared/mls-api.ts';
import { fakeCommit, people, registerDevice, startMlsServer, tagOf } from './mls-helpers.ts';

async function dm(t: { after(fn: () => Promise<void>): void }, now?: () => number) {
  const s = await startMlsServer({ now });
  t.after(() => s.close());
  const [alice, bob] = await people(s, 'bob');
  await registerDevice(s, alice);
  await registerDevice(s, bob);
  const conv: string = (await api(s, alice.cookie, 'POST', '/api/dms', { username: 'bob' })).body.id;
  assert.equal((await api(s, alice.cookie, 'POST', `/api/mls/groups/${conv}`)).status, 201);
  return { s, alice, bob, conv };
}

/** A fake commit of about `size` bytes (the tag pads it). */
function bigCommit(conv: string, epoch: number, size: number): string {
  return fakeCommit(conv, epoch, `${epoch}:`.padEnd(size - 64, 'x'));
}

const commitBytes = (entries: Array<{ commit: string }>) => entries.reduce((n, e) => n + Buffer.from(e.commit, 'base64url').length, 0);

test('one commit is at most 128 KiB (1,000 members measured ~70 KB)', async (t) => {
  const { s, alice, conv } = await dm(t);
  assert.equal(MlsLimits.commitBytes, 128 * 1024);
  assert.equal(MlsLimits.welcomeBytes, 1024 * 1024, 'a 1,000-member Welcome measured 362 KB');
  const over = await api(s, alice.cookie, 'POST', `/api/mls/groups/${conv}/commits`, { epoch: 0, commit: bigCommit(conv, 0, 128 * 1024 + 200) });
  assert.equal(over.status, 400);
  assert.equal(over.body.error.code, 'BAD_REQUEST');
  assert.equal((await api(s, alice.cookie, 'POST', `/api/mls/groups/${conv}/commits`, { epoch: 0, commit: bigCommit(conv, 0, 128 * 1024) })).status, 201);
});

test('log pages and the 409 catch-up list stop at logPageBytes; paging on with fromEpoch gets every commit once', async (t) => {
  const { s, alice, bob, conv } = await dm(t);
  const size = 120 * 1024;
  const total = 40; // 4.7 MiB of commits: more than two pages' worth
  for (let e = 0; e < total; e++) assert.equal((await api(s, alice.cookie, 'POST', `/api/mls/groups/${conv}/commits`, { epoch: e, commit: bigCommit(conv, e, size) })).status, 201, `commit ${e}`);

  const stale = await api(s, bob.cookie, 'POST', `/api/mls/groups/${conv}/commits`, { epoch: 0, commit: fakeCommit(conv, 0, 'late') });
  assert.equal(stale.status, 409);
  assert.equal(stale.body.error.currentEpoch, total);
  assert.equal(stale.body.error.hasMore, true);
  assert.ok(stale.body.error.commits.length >= 1 && stale.body.error.commits.length < total);
  assert.ok(commitBytes(stale.body.error.commits) <= MlsLimits.logPageBytes);
  assert.deepEqual(stale.body.error.commits.map((c: any) => c.epoch), [...Array(stale.body.error.commits.length).keys()], 'the winners from the posted epoch on');

  const epochs: number[] = [];
  let from = 0;
  let pages = 0;
  for (;;) {
    const page = await api(s, bob.cookie, 'GET', `/api/mls/groups/${conv}/log?fromEpoch=${from}`);
    assert.equal(page.status, 200);
    pages++;
    assert.ok(commitBytes(page.body.entries) <= MlsLimits.logPageBytes, `page ${pages}`);
    for (const e of page.body.entries) assert.equal(tagOf(e.commit).split(':')[0], String(e.epoch));
    epochs.push(...page.body.entries.map((e: any) => e.epoch));
    if (!page.body.hasMore) break;
    from = epochs[epochs.length - 1] + 1;
  }
  assert.deepEqual(epochs, [...Array(total).keys()]);
  assert.ok(pages >= 3, `${pages} pages`);
});

test('a single commit larger than the page cap would still be served alone (a page never comes back empty)', async (t) => {
  const { s, alice, bob, conv } = await dm(t);
  assert.equal((await api(s, alice.cookie, 'POST', `/api/mls/groups/${conv}/commits`, { epoch: 0, commit: fakeCommit(conv, 0, 'only') })).status, 201);
  const page = await s.store.mls.commitPage(conv, 0, { maxCount: 10, maxBytes: 1 });
  assert.deepEqual([page.commits.length, page.hasMore], [1, false]);
  assert.equal((await api(s, bob.cookie, 'GET', `/api/mls/groups/${conv}/log`)).body.entries.length, 1);
});

test('log reads are rate limited per user (429 with Retry-After); another member still reads', async (t) => {
  // A stopped clock: buckets refill only when the test says so.
  let clock = Date.now();
  const { s, alice, bob, conv } = await dm(t, () => clock);
  for (let i = 0; i < MlsLimits.logReadBurst; i++) assert.equal((await api(s, bob.cookie, 'GET', `/api/mls/groups/${conv}/log`)).status, 200, `read ${i}`);
  const limited = await api(s, bob.cookie, 'GET', `/api/mls/groups/${conv}/log`);
  assert.equal(limited.status, 429);
  assert.equal(limited.body.error.code, 'RATE_LIMITED');
  assert.ok(Number(limited.headers.get('retry-after')) >= 1);
  assert.equal((await api(s, alice.cookie, 'GET', `/api/mls/groups/${conv}/log`)).status, 200);
  clock += MlsLimits.logReadRefillMs;
  assert.equal((await api(s, bob.cookie, 'GET', `/api/mls/groups/${conv}/log`)).status, 200, 'refilled');
});
