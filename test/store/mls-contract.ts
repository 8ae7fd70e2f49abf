// The MlsStore contract: every adapter (SQLite now, PostgreSQL later) must pass this node:test suite.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Store, User } from '../../src/store/types.ts';
import { withFreshStore, type OpenedStore } from './contract.ts';

let counter = 0;
const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

async function user(store: Store): Promise<User> {
  const username = `mlsuser${++counter}`;
  return store.createUser({ username, role: 'member', salt: randomBytes(16), iterations: 600_000, verifier: `$argon2id$fake$${username}` });
}

/** A user with a session and a device bound to it. */
async function withDevice(store: Store, u?: User) {
  const owner = u ?? (await user(store));
  const sessionHash = randomBytes(32).toString('hex');
  await store.createSession({ tokenHash: sessionHash, userId: owner.id, createdAt: Date.now(), expiresAt: Date.now() + 3_600_000 });
  const device = await store.mls.registerDevice({
    userId: owner.id,
    sessionHash,
    label: 'laptop',
    certificate: enc(`cert-${owner.id}`),
    rebindHash: 'rebind-hash',
    maxDevices: 4,
    now: 1000,
  });
  return { user: owner, device, sessionHash };
}

async function groupConversation(store: Store, members: User[]): Promise<string> {
  const c = await store.createGroup({ name: 'g', createdBy: members[0].id, memberIds: members.map((m) => m.id) });
  return c.id;
}

async function rejects(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (err: any) => err.code === code);
}

/** Registers the MLS contract tests for one adapter; `open` gives a fresh, migrated, empty store. */
export function runMlsStoreContract(name: string, open: () => Promise<OpenedStore>): void {
  const withStore = (fn: (store: Store) => Promise<void>) => withFreshStore(open, fn);

  describe(`MlsStore contract: ${name}`, () => {
    describe('devices', () => {
      it('registers a device bound to its session, lists it, and refuses a second one for that session', () =>
        withStore(async (s) => {
          const { user: u, device, sessionHash } = await withDevice(s);
          assert.equal(device.userId, u.id);
          assert.equal(dec(device.certificate!), `cert-${u.id}`);
          assert.deepEqual(await s.mls.getDevice(device.id), device);
          assert.deepEqual(await s.mls.deviceOfSession(sessionHash), device);
          assert.deepEqual(await s.mls.listDevices(u.id), [device]);
          await rejects(
            s.mls.registerDevice({ userId: u.id, sessionHash, label: 'x', certificate: enc('c'), rebindHash: 'h', maxDevices: 4, now: 1 }),
            'MLS_DEVICE_EXISTS',
          );
        }));

      it('registers a device without a certificate and sets (or replaces) it later, for its owner only', () =>
        withStore(async (s) => {
          const u = await user(s);
          const other = await user(s);
          const sessionHash = randomBytes(32).toString('hex');
          await s.createSession({ tokenHash: sessionHash, userId: u.id, createdAt: Date.now(), expiresAt: Date.now() + 3_600_000 });
          const d = await s.mls.registerDevice({ userId: u.id, sessionHash, label: 'l', certificate: null, rebindHash: 'h', maxDevices: 4, now: 1 });
          assert.equal(d.certificate, null);
          assert.equal((await s.mls.getDevice(d.id))?.certificate, null);
          assert.equal(await s.mls.setCertificate({ deviceId: d.id, userId: other.id, certificate: enc('forged') }), false);
          assert.equal(await s.mls.setCertificate({ deviceId: d.id, userId: u.id, certificate: enc('v1') }), true);
          assert.equal(await s.mls.setCertificate({ deviceId: d.id, userId: u.id, certificate: enc('v2') }), true);
          assert.equal(dec((await s.mls.getDevice(d.id))!.certificate!), 'v2');
          assert.equal(await s.mls.setCertificate({ deviceId: 'no-such-device', userId: u.id, certificate: enc('x') }), false);
        }));

      it('caps devices per user (MLS_DEVICE_LIMIT)', () =>
        withStore(async (s) => {
          const u = await user(s);
          for (let i = 0; i < 4; i++) await withDevice(s, u);
          await rejects(withDevice(s, u), 'MLS_DEVICE_LIMIT');
        }));

      it('unbinds the device when its session ends, and rebinds it only with the right secret hash', () =>
        withStore(async (s) => {
          const { user: u, device, sessionHash } = await withDevice(s);
          await s.deleteSession(sessionHash);
          assert.equal((await s.mls.getDevice(device.id))?.sessionHash, null);
          const next = randomBytes(32).toString('hex');
          await s.createSession({ tokenHash: next, userId: u.id, createdAt: Date.now(), expiresAt: Date.now() + 3_600_000 });
          assert.equal(await s.mls.rebindDevice({ deviceId: device.id, userId: u.id, rebindHash: 'wrong', sessionHash: next }), false);
          const other = await user(s);
          assert.equal(await s.mls.rebindDevice({ deviceId: device.id, userId: other.id, rebindHash: 'rebind-hash', sessionHash: next }), false);
          assert.equal(await s.mls.rebindDevice({ deviceId: device.id, userId: u.id, rebindHash: 'rebind-hash', sessionHash: next }), true);
          assert.equal((await s.mls.deviceOfSession(next))?.id, device.id);
        }));

      it('deletes a device with its KeyPackages and Welcome deliveries, and records device removals in groups', () =>
        withStore(async (s) => {
          const a = await withDevice(s);
          const b = await withDevice(s);
          const conv = await groupConversation(s, [a.user, b.user]);
          await s.mls.createGroup(conv, 1);
          await s.mls.addKeyPackages({ deviceId: b.device.id, oneTime: [enc('kp')], lastResort: enc('last'), maxOneTime: 10, now: 1 });
          await s.mls.appendCommit({ convId: conv, epoch: 0, senderDeviceId: a.device.id, data: enc('c'), ts: 2, welcome: { data: enc('w'), deviceIds: [b.device.id] } });
          assert.equal(await s.mls.deleteDevice({ deviceId: b.device.id, userId: a.user.id, convIds: [conv], now: 3 }), null, 'not the owner');
          assert.deepEqual(await s.mls.deleteDevice({ deviceId: b.device.id, userId: b.user.id, convIds: [conv, 'no-group'], now: 3 }), [conv]);
          assert.equal(await s.mls.getDevice(b.device.id), null);
          assert.deepEqual(await s.mls.claimKeyPackages([b.device.id]), []);
          assert.deepEqual(await s.mls.welcomesFor(b.device.id), []);
          assert.deepEqual(await s.mls.pendingRemovals(conv), [{ userId: b.user.id, deviceId: b.device.id, reason: 'device-revoked', createdAt: 3, resolvedSeq: null }]);
        }));
    });

    describe('KeyPackages', () => {
      it('hands each one-time package out once, oldest first, then the last-resort one without consuming it', () =>
        withStore(async (s) => {
          const { device } = await withDevice(s);
          const count = await s.mls.addKeyPackages({ deviceId: device.id, oneTime: [enc('a'), enc('b')], lastResort: enc('L'), maxOneTime: 10, now: 1 });
          assert.deepEqual(count, { oneTime: 2, hasLastResort: true });
          const got = [];
          for (let i = 0; i < 4; i++) got.push(...(await s.mls.claimKeyPackages([device.id])));
          assert.deepEqual(got.map((p) => [dec(p.data), p.lastResort]), [['a', false], ['b', false], ['L', true], ['L', true]]);
          assert.deepEqual(await s.mls.countKeyPackages(device.id), { oneTime: 0, hasLastResort: true });
        }));

      it('never hands a package to two concurrent claims', () =>
        withStore(async (s) => {
          const { device } = await withDevice(s);
          const n = 50;
          await s.mls.addKeyPackages({ deviceId: device.id, oneTime: Array.from({ length: n }, (_, i) => enc(`kp${i}`)), lastResort: null, maxOneTime: 100, now: 1 });
          const results = await Promise.all(Array.from({ length: n + 10 }, () => s.mls.claimKeyPackages([device.id])));
          const handed = results.flat().map((p) => dec(p.data));
          assert.equal(handed.length, n, 'no last resort: the extra claims get nothing');
          assert.equal(new Set(handed).size, n);
        }));

      it('replaces the last-resort package, refuses an upload above the cap atomically, and skips devices with nothing', () =>
        withStore(async (s) => {
          const { device } = await withDevice(s);
          const empty = await withDevice(s);
          await s.mls.addKeyPackages({ deviceId: device.id, oneTime: [enc('1')], lastResort: enc('old'), maxOneTime: 2, now: 1 });
          await s.mls.addKeyPackages({ deviceId: device.id, oneTime: [], lastResort: enc('new'), maxOneTime: 2, now: 1 });
          await rejects(s.mls.addKeyPackages({ deviceId: device.id, oneTime: [enc('2'), enc('3')], lastResort: enc('x'), maxOneTime: 2, now: 1 }), 'MLS_KEY_PACKAGE_LIMIT');
          assert.deepEqual(await s.mls.countKeyPackages(device.id), { oneTime: 1, hasLastResort: true });
          const claimed = await s.mls.claimKeyPackages([empty.device.id, device.id, device.id]);
          assert.deepEqual(claimed.map((p) => [p.deviceId, dec(p.data)]), [[device.id, '1'], [device.id, 'new']]);
          await rejects(s.mls.addKeyPackages({ deviceId: 'no-such-device', oneTime: [enc('1')], lastResort: null, maxOneTime: 2, now: 1 }), 'NOT_FOUND');
        }));
    });

    describe('groups and the handshake log', () => {
      it('creates a group once at epoch 0', () =>
        withStore(async (s) => {
          const { user: u } = await withDevice(s);
          const conv = await groupConversation(s, [u]);
          assert.equal(await s.mls.getGroup(conv), null);
          assert.deepEqual(await s.mls.createGroup(conv, 5), { convId: conv, epoch: 0, headSeq: 0, createdAt: 5 });
          assert.equal(await s.mls.createGroup(conv, 6), null);
          await rejects(s.mls.createGroup('no-such-conversation', 1), 'NOT_FOUND');
        }));

      it('accepts exactly one commit per epoch, even when they race, and keeps the log ordered', () =>
        withStore(async (s) => {
          const { user: u, device } = await withDevice(s);
          const conv = await groupConversation(s, [u]);
          await s.mls.createGroup(conv, 1);
          const racing = await Promise.all(
            Array.from({ length: 8 }, (_, i) => s.mls.appendCommit({ convId: conv, epoch: 0, senderDeviceId: device.id, data: enc(`c${i}`), ts: 10 + i })),
          );
          const accepted = racing.filter((r) => r.accepted);
          assert.equal(accepted.length, 1);
          for (const r of racing) if (!r.accepted) assert.equal(r.currentEpoch, 1);
          const next = await s.mls.appendCommit({ convId: conv, epoch: 1, senderDeviceId: device.id, data: enc('second'), ts: 30 });
          assert.ok(next.accepted);
          assert.equal(next.commit.seq, 2);
          assert.deepEqual(await s.mls.getGroup(conv), { convId: conv, epoch: 2, headSeq: 2, createdAt: 1 });
          const log = await s.mls.commitsFrom(conv, 0, 10);
          assert.deepEqual(log.map((c) => [c.seq, c.epoch, c.senderDeviceId]), [[1, 0, device.id], [2, 1, device.id]]);
          assert.deepEqual((await s.mls.commitsFrom(conv, 1, 10)).map((c) => dec(c.data)), ['second']);
          assert.equal((await s.mls.commitsFrom(conv, 0, 1)).length, 1);
          const stale = await s.mls.appendCommit({ convId: conv, epoch: 0, senderDeviceId: device.id, data: enc('late'), ts: 40 });
          assert.deepEqual(stale, { accepted: false, currentEpoch: 2 });
          await rejects(s.mls.appendCommit({ convId: 'no-group', epoch: 0, senderDeviceId: device.id, data: enc('x'), ts: 1 }), 'MLS_NO_GROUP');
        }));

      it('stores a Welcome only with an accepted commit, per device, and deletes it after the last acknowledgement', () =>
        withStore(async (s) => {
          const a = await withDevice(s);
          const b = await withDevice(s);
          const c = await withDevice(s);
          const conv = await groupConversation(s, [a.user, b.user, c.user]);
          await s.mls.createGroup(conv, 1);
          const won = await s.mls.appendCommit({ convId: conv, epoch: 0, senderDeviceId: a.device.id, data: enc('add'), ts: 5, welcome: { data: enc('W'), deviceIds: [b.device.id, c.device.id] } });
          assert.ok(won.accepted && won.welcomeId);
          const lost = await s.mls.appendCommit({ convId: conv, epoch: 0, senderDeviceId: a.device.id, data: enc('add2'), ts: 6, welcome: { data: enc('W2'), deviceIds: [b.device.id] } });
          assert.equal(lost.accepted, false);
          const forB = await s.mls.welcomesFor(b.device.id);
          assert.deepEqual(forB.map((w) => [w.convId, w.epoch, dec(w.data)]), [[conv, 1, 'W']]);
          assert.deepEqual(await s.mls.welcomesFor(a.device.id), []);
          assert.equal(await s.mls.ackWelcome(a.device.id, forB[0].id), false);
          assert.equal(await s.mls.ackWelcome(b.device.id, forB[0].id), true);
          assert.equal(await s.mls.ackWelcome(b.device.id, forB[0].id), false);
          assert.equal((await s.mls.welcomesFor(c.device.id)).length, 1, 'still waiting for the other device');
          assert.equal(await s.mls.ackWelcome(c.device.id, forB[0].id), true);
          assert.deepEqual(await s.mls.welcomesFor(c.device.id), []);
          // An unknown recipient rolls the whole commit back.
          await rejects(
            s.mls.appendCommit({ convId: conv, epoch: 1, senderDeviceId: a.device.id, data: enc('x'), ts: 7, welcome: { data: enc('W'), deviceIds: ['no-such-device'] } }),
            'NOT_FOUND',
          );
          assert.equal((await s.mls.getGroup(conv))?.epoch, 1);
        }));

      it('pages the log by count and bytes (at least one commit per page)', () =>
        withStore(async (s) => {
          const { user: u, device } = await withDevice(s);
          const conv = await groupConversation(s, [u]);
          await s.mls.createGroup(conv, 1);
          for (let e = 0; e < 5; e++) await s.mls.appendCommit({ convId: conv, epoch: e, senderDeviceId: device.id, data: new Uint8Array(100).fill(e), ts: e });
          const byCount = await s.mls.commitPage(conv, 0, { maxCount: 2, maxBytes: 10_000 });
          assert.deepEqual([byCount.commits.map((c) => c.epoch), byCount.hasMore], [[0, 1], true]);
          const byBytes = await s.mls.commitPage(conv, 1, { maxCount: 10, maxBytes: 250 });
          assert.deepEqual([byBytes.commits.map((c) => c.epoch), byBytes.hasMore], [[1, 2], true]);
          assert.deepEqual((await s.mls.commitPage(conv, 4, { maxCount: 10, maxBytes: 1 })).commits.map((c) => c.epoch), [4], 'one even past the cap');
          assert.equal((await s.mls.commitPage(conv, 3, { maxCount: 10, maxBytes: 10_000 })).hasMore, false);
        }));

      it('pages a device’s Welcomes with a cursor, caps its inbox atomically, and expires old ones', () =>
        withStore(async (s) => {
          const a = await withDevice(s);
          const b = await withDevice(s);
          const conv = await groupConversation(s, [a.user, b.user]);
          await s.mls.createGroup(conv, 1);
          for (let e = 0; e < 3; e++) {
            const r = await s.mls.appendCommit({ convId: conv, epoch: e, senderDeviceId: a.device.id, data: enc('c'), ts: 100 + e, welcome: { data: new Uint8Array(100), deviceIds: [b.device.id] }, maxWelcomesPerDevice: 3 });
            assert.ok(r.accepted);
          }
          await rejects(
            s.mls.appendCommit({ convId: conv, epoch: 3, senderDeviceId: a.device.id, data: enc('c'), ts: 200, welcome: { data: enc('W'), deviceIds: [b.device.id] }, maxWelcomesPerDevice: 3 }),
            'MLS_WELCOME_INBOX_FULL',
          );
          assert.equal((await s.mls.getGroup(conv))?.epoch, 3, 'the refused commit was not stored');
          const first = await s.mls.welcomePage(b.device.id, { after: 0, maxCount: 2, maxBytes: 10_000 });
          assert.deepEqual([first.welcomes.map((w) => w.epoch), first.hasMore], [[1, 2], true]);
          const rest = await s.mls.welcomePage(b.device.id, { after: first.next!, maxCount: 2, maxBytes: 10_000 });
          assert.deepEqual([rest.welcomes.map((w) => w.epoch), rest.hasMore, rest.next], [[3], false, null]);
          const bySize = await s.mls.welcomePage(b.device.id, { after: 0, maxCount: 10, maxBytes: 150 });
          assert.deepEqual([bySize.welcomes.length, bySize.hasMore], [1, true]);
          assert.equal(await s.mls.expireWelcomes(102), 2, 'received before 102');
          assert.deepEqual((await s.mls.welcomesFor(b.device.id)).map((w) => w.epoch), [3]);
        }));

      it('records pending removals only for conversations with a group, and a commit resolves them', () =>
        withStore(async (s) => {
          const a = await withDevice(s);
          const b = await withDevice(s);
          const withGroup = await groupConversation(s, [a.user, b.user]);
          const withoutGroup = await groupConversation(s, [a.user, b.user]);
          await s.mls.createGroup(withGroup, 1);
          assert.deepEqual(await s.mls.recordRemovals({ convIds: [withGroup, withoutGroup], userId: b.user.id, reason: 'kicked', now: 9 }), [withGroup]);
          assert.deepEqual(await s.mls.recordRemovals({ convIds: [withGroup], userId: b.user.id, reason: 'banned', now: 10 }), [withGroup]);
          assert.deepEqual(await s.mls.pendingRemovals(withGroup), [{ userId: b.user.id, deviceId: null, reason: 'banned', createdAt: 10, resolvedSeq: null }]);
          assert.deepEqual(await s.mls.recordRemovals({ convIds: [], userId: b.user.id, reason: 'left', now: 1 }), []);
          // A commit naming someone else resolves nothing.
          const other = await s.mls.appendCommit({ convId: withGroup, epoch: 0, senderDeviceId: a.device.id, data: enc('update'), ts: 11, resolvesRemovals: [a.user.id] });
          assert.ok(other.accepted);
          assert.equal((await s.mls.pendingRemovals(withGroup))[0].resolvedSeq, null);
          // The claim marks the removal with the commit's seq; it stays listed so clients can check it.
          const r = await s.mls.appendCommit({ convId: withGroup, epoch: 1, senderDeviceId: a.device.id, data: enc('rm'), ts: 12, resolvesRemovals: [b.user.id] });
          assert.ok(r.accepted);
          assert.deepEqual(await s.mls.pendingRemovals(withGroup), [{ userId: b.user.id, deviceId: null, reason: 'banned', createdAt: 10, resolvedSeq: 2 }]);
          // A later claim does not move it; a new removal of the same user starts unresolved again.
          await s.mls.appendCommit({ convId: withGroup, epoch: 2, senderDeviceId: a.device.id, data: enc('again'), ts: 13, resolvesRemovals: [b.user.id] });
          assert.equal((await s.mls.pendingRemovals(withGroup))[0].resolvedSeq, 2);
          await s.mls.recordRemovals({ convIds: [withGroup], userId: b.user.id, reason: 'kicked', now: 14 });
          assert.equal((await s.mls.pendingRemovals(withGroup))[0].resolvedSeq, null);
        }));
    });

    describe('wrapped key storage', () => {
      it('writes only on the expected version, per user and kind', () =>
        withStore(async (s) => {
          const u = await user(s);
          const v = await user(s);
          assert.equal(await s.mls.getBackup(u.id, 'archive'), null);
          assert.deepEqual(await s.mls.putBackup({ userId: u.id, kind: 'archive', expectedVersion: 1, data: enc('x'), now: 1 }), { ok: false, currentVersion: 0 });
          assert.deepEqual(await s.mls.putBackup({ userId: u.id, kind: 'archive', expectedVersion: 0, data: enc('one'), now: 1 }), { ok: true, version: 1 });
          const racing = await Promise.all([
            s.mls.putBackup({ userId: u.id, kind: 'archive', expectedVersion: 1, data: enc('two-a'), now: 2 }),
            s.mls.putBackup({ userId: u.id, kind: 'archive', expectedVersion: 1, data: enc('two-b'), now: 2 }),
          ]);
          assert.deepEqual(racing.map((r) => r.ok).sort(), [false, true]);
          const stored = await s.mls.getBackup(u.id, 'archive');
          assert.equal(stored?.version, 2);
          assert.equal(dec(stored!.data), racing[0].ok ? 'two-a' : 'two-b');
          assert.equal(await s.mls.getBackup(u.id, 'account-key'), null);
          assert.equal(await s.mls.getBackup(v.id, 'archive'), null);
          assert.deepEqual(await s.mls.deleteBackup({ userId: u.id, kind: 'archive', expectedVersion: 1, now: 3 }), { ok: false, currentVersion: 2 });
          assert.deepEqual(await s.mls.deleteBackup({ userId: u.id, kind: 'archive', expectedVersion: 2, now: 3 }), { ok: true, version: 3 });
          assert.equal(await s.mls.getBackup(u.id, 'archive'), null);
          assert.deepEqual(await s.mls.deleteBackup({ userId: u.id, kind: 'archive', expectedVersion: 3, now: 3 }), { ok: false, missing: true });
          // The tombstone keeps the version: the next write is version 4, never 1 again.
          assert.deepEqual(await s.mls.putBackup({ userId: u.id, kind: 'archive', expectedVersion: 0, data: enc('after'), now: 4 }), { ok: true, version: 4 });
          assert.deepEqual(await s.mls.putBackup({ userId: u.id, kind: 'archive', expectedVersion: 0, data: enc('late'), now: 4 }), { ok: false, currentVersion: 4 });
          await s.mls.deleteBackup({ userId: u.id, kind: 'archive', expectedVersion: 4, now: 5 });
          assert.deepEqual(await s.mls.putBackup({ userId: u.id, kind: 'archive', expectedVersion: 5, data: enc('by tombstone'), now: 6 }), { ok: true, version: 6 });
          assert.deepEqual(await s.mls.deleteBackup({ userId: v.id, kind: 'archive', expectedVersion: 0, now: 3 }), { ok: false, missing: true });
        }));
    });
  });
}
