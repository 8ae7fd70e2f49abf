// The Store contract: every adapter (SQLite now, PostgreSQL later) must pass this node:test suite.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Store, User } from '../../src/store/types.ts';

export interface OpenedStore {
  store: Store;
  cleanup(): Promise<void>;
}

const HOUR = 3_600_000;
let counter = 0;

function hash(): string {
  return randomBytes(32).toString('hex');
}

async function user(store: Store, username = `user${++counter}`, role: User['role'] = 'member'): Promise<User> {
  return store.createUser({ username, role, salt: randomBytes(16), iterations: 600_000, verifier: `$argon2id$fake$${username}` });
}

/** Runs `fn` against a fresh store from `open` and always cleans up. */
export async function withFreshStore(open: () => Promise<OpenedStore>, fn: (store: Store) => Promise<void>): Promise<void> {
  const { store, cleanup } = await open();
  try {
    await fn(store);
  } finally {
    await cleanup();
  }
}

/** Registers the contract tests for one adapter; `open` gives a fresh, migrated, empty store. */
export function runStoreContract(name: string, open: () => Promise<OpenedStore>): void {
  const withStore = (fn: (store: Store) => Promise<void>) => withFreshStore(open, fn);

  describe(`Store contract: ${name}`, () => {
    describe('users and credentials', () => {
      it('creates a user and reads it back by id and by username, case-insensitively', () =>
        withStore(async (s) => {
          const salt = randomBytes(16);
          const u = await s.createUser({ username: 'Alice.B', role: 'owner', salt, iterations: 700_000, verifier: 'v1' });
          assert.equal(u.username, 'Alice.B');
          assert.equal(u.role, 'owner');
          assert.equal(typeof u.id, 'string');
          assert.ok(u.id.length >= 16);
          assert.ok(Math.abs(u.createdAt - Date.now()) < 60_000);
          assert.deepEqual(await s.getUser(u.id), u);
          assert.deepEqual(await s.getUserByUsername('alice.b'), u);
          assert.deepEqual(await s.getUserByUsername('ALICE.B'), u);
          assert.equal(await s.getUserByUsername('alice'), null);
          assert.equal(await s.getUser('no-such-id'), null);
          const cred = await s.getCredentials(u.id);
          assert.ok(cred);
          assert.equal(cred.userId, u.id);
          assert.deepEqual(Buffer.from(cred.salt), salt);
          assert.equal(cred.iterations, 700_000);
          assert.equal(cred.verifier, 'v1');
          assert.equal(await s.getCredentials('no-such-id'), null);
        }));

      it('refuses a username that differs only in case (USERNAME_TAKEN)', () =>
        withStore(async (s) => {
          await user(s, 'Bob');
          await assert.rejects(user(s, 'bob'), { code: 'USERNAME_TAKEN' });
          await assert.rejects(user(s, 'BOB'), { code: 'USERNAME_TAKEN' });
          assert.equal(await s.countUsers(), 1);
        }));

      it('updates the verifier and counts users', () =>
        withStore(async (s) => {
          assert.equal(await s.countUsers(), 0);
          const a = await user(s);
          await user(s);
          assert.equal(await s.countUsers(), 2);
          await s.updateVerifier(a.id, 'v2');
          assert.equal((await s.getCredentials(a.id))?.verifier, 'v2');
        }));
    });

    describe('sessions', () => {
      it('stores, finds, and deletes a session', () =>
        withStore(async (s) => {
          const u = await user(s);
          const rec = { tokenHash: hash(), userId: u.id, createdAt: Date.now(), expiresAt: Date.now() + HOUR };
          await s.createSession(rec);
          assert.deepEqual(await s.getSession(rec.tokenHash), rec);
          assert.equal(await s.getSession(hash()), null);
          await s.deleteSession(rec.tokenHash);
          assert.equal(await s.getSession(rec.tokenHash), null);
        }));

      it('treats an expired session as unknown', () =>
        withStore(async (s) => {
          const u = await user(s);
          const rec = { tokenHash: hash(), userId: u.id, createdAt: Date.now() - 2 * HOUR, expiresAt: Date.now() - 1 };
          await s.createSession(rec);
          assert.equal(await s.getSession(rec.tokenHash), null);
        }));

      it('deleteOtherSessions keeps one session and returns the deleted hashes', () =>
        withStore(async (s) => {
          const u = await user(s);
          const other = await user(s);
          const mk = async (userId: string) => {
            const r = { tokenHash: hash(), userId, createdAt: Date.now(), expiresAt: Date.now() + HOUR };
            await s.createSession(r);
            return r.tokenHash;
          };
          const keep = await mk(u.id);
          const drop1 = await mk(u.id);
          const drop2 = await mk(u.id);
          const others = await mk(other.id);
          const deleted = await s.deleteOtherSessions(u.id, keep);
          assert.deepEqual([...deleted].sort(), [drop1, drop2].sort());
          assert.ok(await s.getSession(keep));
          assert.equal(await s.getSession(drop1), null);
          assert.ok(await s.getSession(others), "another user's session is untouched");
          assert.deepEqual(await s.deleteOtherSessions(u.id, null), [keep]);
          assert.equal(await s.getSession(keep), null);
        }));
    });

    describe('invites', () => {
      it('finds a usable invite and consumes it exactly once', () =>
        withStore(async (s) => {
          const owner = await user(s);
          const { server } = await s.createServer({ name: 'Home', ownerId: owner.id, isDefault: true });
          const now = Date.now();
          const inv = { tokenHash: hash(), kind: 'invite' as const, serverId: server.id, createdBy: owner.id, createdAt: now, expiresAt: now + HOUR, usedAt: null };
          await s.createInvite(inv);
          assert.deepEqual(await s.getUsableInvite(inv.tokenHash, now), inv);
          assert.equal(await s.getUsableInvite(hash(), now), null);
          assert.equal(await s.consumeInvite(inv.tokenHash, now + 1), true);
          assert.equal(await s.consumeInvite(inv.tokenHash, now + 2), false, 'single use');
          assert.equal(await s.getUsableInvite(inv.tokenHash, now + 3), null);
          assert.equal(await s.consumeInvite(hash(), now), false);
        }));

      it('refuses an expired invite and a setup invite without server or creator works', () =>
        withStore(async (s) => {
          const now = Date.now();
          const setup = { tokenHash: hash(), kind: 'setup' as const, serverId: null, createdBy: null, createdAt: now, expiresAt: now + HOUR, usedAt: null };
          await s.createInvite(setup);
          assert.deepEqual(await s.getUsableInvite(setup.tokenHash, now), setup);
          assert.equal(await s.getUsableInvite(setup.tokenHash, now + HOUR), null, 'expired at expiresAt');
          assert.equal(await s.consumeInvite(setup.tokenHash, now + HOUR + 1), false);
          assert.equal(await s.consumeInvite(setup.tokenHash, now), true, 'still unused after the refused attempt');
        }));

      it('lets only one of many concurrent consumers win', () =>
        withStore(async (s) => {
          const now = Date.now();
          const inv = { tokenHash: hash(), kind: 'invite' as const, serverId: null, createdBy: null, createdAt: now, expiresAt: now + HOUR, usedAt: null };
          await s.createInvite(inv);
          const results = await Promise.all(Array.from({ length: 20 }, () => s.consumeInvite(inv.tokenHash, now)));
          assert.equal(results.filter(Boolean).length, 1);
        }));
    });

    describe('servers, channels and membership', () => {
      it('createServer adds the owner as owner and a general channel', () =>
        withStore(async (s) => {
          const owner = await user(s);
          const { server, general } = await s.createServer({ name: 'Home', ownerId: owner.id, isDefault: true });
          assert.equal(server.name, 'Home');
          assert.equal(server.ownerId, owner.id);
          assert.equal(server.isDefault, true);
          assert.equal(general.kind, 'channel');
          assert.equal(general.name, 'general');
          assert.equal(general.serverId, server.id);
          assert.equal(general.head, 0);
          assert.equal(await s.getServerRole(server.id, owner.id), 'owner');
          assert.deepEqual(await s.getServer(server.id), server);
          assert.equal(await s.getServer('nope'), null);
          assert.deepEqual(await s.getDefaultServer(), server);
          assert.deepEqual(await s.listChannels(server.id), [general]);
          assert.deepEqual(await s.getConversation(general.id), general);
        }));

      it('has no default server until one is created, and a non-default server is not it', () =>
        withStore(async (s) => {
          const owner = await user(s);
          assert.equal(await s.getDefaultServer(), null);
          const { server } = await s.createServer({ name: 'Side', ownerId: owner.id });
          assert.equal(server.isDefault, false);
          assert.equal(await s.getDefaultServer(), null);
        }));

      it('creates and lists channels in creation order', () =>
        withStore(async (s) => {
          const owner = await user(s);
          const { server, general } = await s.createServer({ name: 'Home', ownerId: owner.id });
          const a = await s.createChannel({ serverId: server.id, name: 'random', createdBy: owner.id });
          const b = await s.createChannel({ serverId: server.id, name: 'photos', createdBy: owner.id });
          assert.equal(a.kind, 'channel');
          assert.equal(a.serverId, server.id);
          assert.deepEqual((await s.listChannels(server.id)).map((c) => c.id), [general.id, a.id, b.id]);
          const { server: other } = await s.createServer({ name: 'Other', ownerId: owner.id });
          assert.equal((await s.listChannels(other.id)).length, 1);
        }));

      it('adds, keeps, lists and removes members', () =>
        withStore(async (s) => {
          const owner = await user(s);
          const bob = await user(s);
          const { server } = await s.createServer({ name: 'Home', ownerId: owner.id });
          await s.addServerMember(server.id, bob.id);
          assert.equal(await s.getServerRole(server.id, bob.id), 'member');
          await s.addServerMember(server.id, bob.id, 'admin');
          assert.equal(await s.getServerRole(server.id, bob.id), 'member', 'adding again keeps the member as is');
          const members = await s.listServerMembers(server.id);
          assert.deepEqual(
            members.map((m) => [m.user.id, m.role]).sort(),
            [[owner.id, 'owner'], [bob.id, 'member']].sort(),
          );
          assert.deepEqual(members.find((m) => m.user.id === bob.id)?.user, bob);
          const carol = await user(s);
          await s.addServerMember(server.id, carol.id, 'admin');
          assert.equal(await s.getServerRole(server.id, carol.id), 'admin');
          await s.removeServerMember(server.id, bob.id);
          assert.equal(await s.getServerRole(server.id, bob.id), null);
        }));

      it('lists the servers of a user, default first, with roles', () =>
        withStore(async (s) => {
          const owner = await user(s);
          const bob = await user(s);
          const { server: side } = await s.createServer({ name: 'Side', ownerId: bob.id });
          const { server: home } = await s.createServer({ name: 'Home', ownerId: owner.id, isDefault: true });
          await s.addServerMember(home.id, bob.id);
          const list = await s.listServersOf(bob.id);
          assert.deepEqual(
            list.map((e) => [e.server.id, e.role]),
            [
              [home.id, 'member'],
              [side.id, 'owner'],
            ],
          );
          assert.deepEqual(list[0].server, home);
          assert.deepEqual(await s.listServersOf((await user(s)).id), []);
        }));

      it('ban removes the member, blocks re-adding (BANNED), and unban lifts it', () =>
        withStore(async (s) => {
          const owner = await user(s);
          const bob = await user(s);
          const { server } = await s.createServer({ name: 'Home', ownerId: owner.id });
          await s.addServerMember(server.id, bob.id);
          assert.equal(await s.isBanned(server.id, bob.id), false);
          await s.banFromServer(server.id, bob.id, owner.id);
          assert.equal(await s.isBanned(server.id, bob.id), true);
          assert.equal(await s.getServerRole(server.id, bob.id), null);
          await assert.rejects(s.addServerMember(server.id, bob.id), { code: 'BANNED' });
          await s.banFromServer(server.id, bob.id, owner.id);
          assert.equal(await s.isBanned(server.id, bob.id), true, 'banning twice is harmless');
          await s.unbanFromServer(server.id, bob.id);
          assert.equal(await s.isBanned(server.id, bob.id), false);
          await s.addServerMember(server.id, bob.id);
          assert.equal(await s.getServerRole(server.id, bob.id), 'member');
        }));

      it('a ban is per server', () =>
        withStore(async (s) => {
          const owner = await user(s);
          const bob = await user(s);
          const { server: a } = await s.createServer({ name: 'A', ownerId: owner.id });
          const { server: b } = await s.createServer({ name: 'B', ownerId: owner.id });
          await s.banFromServer(a.id, bob.id, owner.id);
          await s.addServerMember(b.id, bob.id);
          assert.equal(await s.isBanned(b.id, bob.id), false);
          assert.equal(await s.getServerRole(b.id, bob.id), 'member');
        }));
    });

    describe('groups and DMs', () => {
      it('creates a group with its creator and members', () =>
        withStore(async (s) => {
          const a = await user(s);
          const b = await user(s);
          const c = await user(s);
          const g = await s.createGroup({ name: 'Family', createdBy: a.id, memberIds: [b.id, b.id] });
          assert.equal(g.kind, 'group');
          assert.equal(g.name, 'Family');
          assert.equal(g.serverId, null);
          assert.equal(g.createdBy, a.id);
          assert.deepEqual((await s.listConversationMemberIds(g.id)).sort(), [a.id, b.id].sort());
          await s.addConversationMember(g.id, c.id);
          await s.addConversationMember(g.id, c.id);
          assert.deepEqual((await s.listConversationMemberIds(g.id)).sort(), [a.id, b.id, c.id].sort());
          await s.removeConversationMember(g.id, b.id);
          assert.deepEqual((await s.listConversationMemberIds(g.id)).sort(), [a.id, c.id].sort());
          assert.deepEqual((await s.listDirectConversationsOf(c.id)).map((x) => x.id), [g.id]);
          assert.deepEqual(await s.listDirectConversationsOf(b.id), []);
        }));

      it('returns one DM per unordered pair', () =>
        withStore(async (s) => {
          const a = await user(s);
          const b = await user(s);
          const c = await user(s);
          const ab = await s.getOrCreateDm(a.id, b.id);
          assert.equal(ab.kind, 'dm');
          assert.equal(ab.name, '');
          assert.equal(ab.serverId, null);
          assert.deepEqual(await s.getOrCreateDm(b.id, a.id), ab);
          assert.deepEqual(await s.getOrCreateDm(a.id, b.id), ab);
          const both = await Promise.all([s.getOrCreateDm(a.id, c.id), s.getOrCreateDm(c.id, a.id)]);
          assert.equal(both[0].id, both[1].id, 'concurrent creation yields one DM');
          assert.notEqual(both[0].id, ab.id);
          assert.deepEqual((await s.listConversationMemberIds(ab.id)).sort(), [a.id, b.id].sort());
          assert.deepEqual(
            (await s.listDirectConversationsOf(a.id)).map((x) => x.id).sort(),
            [ab.id, both[0].id].sort(),
          );
        }));

      it('refuses to add members to a channel or a DM', () =>
        withStore(async (s) => {
          const a = await user(s);
          const b = await user(s);
          const c = await user(s);
          const { general } = await s.createServer({ name: 'Home', ownerId: a.id });
          const dm = await s.getOrCreateDm(a.id, b.id);
          await assert.rejects(s.addConversationMember(dm.id, c.id), { code: 'BAD_REQUEST' });
          await assert.rejects(s.addConversationMember(general.id, c.id), { code: 'BAD_REQUEST' });
          await assert.rejects(s.addConversationMember('no-such-conv', c.id), { code: 'NOT_FOUND' });
          assert.equal(await s.getAccess(dm.id, c.id), null);
        }));
    });

    describe('unknown ids', () => {
      it('writes that name an unknown user, server or conversation fail with NOT_FOUND and change nothing', () =>
        withStore(async (s) => {
          const a = await user(s);
          const { server, general } = await s.createServer({ name: 'Home', ownerId: a.id });
          await assert.rejects(s.addServerMember('no-such-server', a.id), { code: 'NOT_FOUND' });
          await assert.rejects(s.addServerMember(server.id, 'no-such-user'), { code: 'NOT_FOUND' });
          await assert.rejects(s.createChannel({ serverId: 'no-such-server', name: 'x', createdBy: a.id }), { code: 'NOT_FOUND' });
          await assert.rejects(s.createGroup({ name: 'g', createdBy: a.id, memberIds: ['no-such-user'] }), { code: 'NOT_FOUND' });
          assert.deepEqual(await s.listDirectConversationsOf(a.id), [], 'the failed group was rolled back');
          await assert.rejects(s.getOrCreateDm(a.id, 'no-such-user'), { code: 'NOT_FOUND' });
          await assert.rejects(s.createSession({ tokenHash: hash(), userId: 'no-such-user', createdAt: 0, expiresAt: Date.now() + HOUR }), { code: 'NOT_FOUND' });
          await assert.rejects(s.setLastRead(a.id, 'no-such-conv', 1), { code: 'NOT_FOUND' });
          await assert.rejects(s.appendMessage({ convId: 'no-such-conv', senderId: a.id, ts: 1, body: new Uint8Array(1) }), { code: 'NOT_FOUND' });
          assert.deepEqual((await s.listServerMembers(server.id)).map((m) => m.user.id), [a.id]);
          assert.equal((await s.listChannels(server.id)).length, 1);
          assert.equal((await s.getConversation(general.id))?.head, 0);
        }));
    });

    describe('access', () => {
      it('channel: server members see it with their role; non-members, removed and banned users do not', () =>
        withStore(async (s) => {
          const owner = await user(s);
          const member = await user(s);
          const admin = await user(s);
          const outsider = await user(s);
          const kicked = await user(s);
          const banned = await user(s);
          const { server, general } = await s.createServer({ name: 'Home', ownerId: owner.id });
          const extra = await s.createChannel({ serverId: server.id, name: 'extra', createdBy: owner.id });
          await s.addServerMember(server.id, member.id);
          await s.addServerMember(server.id, admin.id, 'admin');
          await s.addServerMember(server.id, kicked.id);
          await s.addServerMember(server.id, banned.id);
          await s.removeServerMember(server.id, kicked.id);
          await s.banFromServer(server.id, banned.id, owner.id);

          for (const conv of [general, extra]) {
            const a = await s.getAccess(conv.id, owner.id);
            assert.equal(a?.role, 'owner');
            assert.equal(a?.conversation.id, conv.id);
            assert.equal((await s.getAccess(conv.id, member.id))?.role, 'member');
            assert.equal((await s.getAccess(conv.id, admin.id))?.role, 'admin');
            assert.equal(await s.getAccess(conv.id, outsider.id), null);
            assert.equal(await s.getAccess(conv.id, kicked.id), null);
            assert.equal(await s.getAccess(conv.id, banned.id), null);
            assert.deepEqual((await s.listConversationMemberIds(conv.id)).sort(), [owner.id, member.id, admin.id].sort());
          }
          assert.equal(await s.getAccess('no-such-conv', owner.id), null);
          assert.deepEqual(await s.listConversationMemberIds('no-such-conv'), []);
        }));

      it('channel access follows the latest head', () =>
        withStore(async (s) => {
          const owner = await user(s);
          const { general } = await s.createServer({ name: 'Home', ownerId: owner.id });
          await s.appendMessage({ convId: general.id, senderId: owner.id, ts: Date.now(), body: new Uint8Array([1]) });
          assert.equal((await s.getAccess(general.id, owner.id))?.conversation.head, 1);
          assert.equal((await s.getConversation(general.id))?.head, 1);
        }));

      it('group and DM: only members, with role member; a removed member loses access', () =>
        withStore(async (s) => {
          const a = await user(s);
          const b = await user(s);
          const outsider = await user(s);
          const g = await s.createGroup({ name: 'G', createdBy: a.id, memberIds: [b.id] });
          const dm = await s.getOrCreateDm(a.id, b.id);
          for (const conv of [g, dm]) {
            assert.equal((await s.getAccess(conv.id, a.id))?.role, 'member');
            assert.equal((await s.getAccess(conv.id, b.id))?.conversation.id, conv.id);
            assert.equal(await s.getAccess(conv.id, outsider.id), null);
          }
          await s.removeConversationMember(g.id, b.id);
          assert.equal(await s.getAccess(g.id, b.id), null);
          assert.deepEqual(await s.listConversationMemberIds(g.id), [a.id]);
        }));
    });

    describe('messages', () => {
      it('appends with seq from 1 per conversation, stores bodies byte for byte, and bumps head', () =>
        withStore(async (s) => {
          const a = await user(s);
          const { general } = await s.createServer({ name: 'Home', ownerId: a.id });
          const dm = await s.getOrCreateDm(a.id, (await user(s)).id);
          // Not valid UTF-8: the store must never decode a body.
          const body = new Uint8Array([0xff, 0x00, 0xfe, 0x80, 0xc3]);
          const ts = Date.now();
          const m1 = await s.appendMessage({ convId: general.id, senderId: a.id, ts, body });
          assert.deepEqual({ ...m1, body: Buffer.from(m1.body) }, { convId: general.id, seq: 1, senderId: a.id, ts, body: Buffer.from(body) });
          assert.equal((await s.appendMessage({ convId: general.id, senderId: a.id, ts, body })).seq, 2);
          assert.equal((await s.appendMessage({ convId: dm.id, senderId: a.id, ts, body })).seq, 1);
          const stored = await s.messagesAfter(general.id, 0, 10);
          assert.deepEqual(stored.map((m) => m.seq), [1, 2]);
          assert.deepEqual(Buffer.from(stored[0].body), Buffer.from(body));
          assert.ok(stored[0].body instanceof Uint8Array);
          assert.equal(stored[0].senderId, a.id);
          assert.equal(stored[0].ts, ts);
          assert.equal((await s.getConversation(general.id))?.head, 2);
          assert.equal((await s.getConversation(dm.id))?.head, 1);
        }));

      it('concurrent appends in one turn get consecutive seqs, in call order', () =>
        withStore(async (s) => {
          const a = await user(s);
          const { general } = await s.createServer({ name: 'Home', ownerId: a.id });
          const results = await Promise.all(
            Array.from({ length: 50 }, (_, i) => s.appendMessage({ convId: general.id, senderId: a.id, ts: i, body: new Uint8Array([i]) })),
          );
          assert.deepEqual(results.map((m) => m.seq), Array.from({ length: 50 }, (_, i) => i + 1));
          assert.deepEqual(results.map((m) => m.body[0]), Array.from({ length: 50 }, (_, i) => i));
        }));

      it('a send is idempotent per (conversation, sender, ref): a repeat returns the original, stores nothing', () =>
        withStore(async (s) => {
          const a = await user(s);
          const b = await user(s);
          const { general } = await s.createServer({ name: 'Home', ownerId: a.id });
          const dm = await s.getOrCreateDm(a.id, b.id);
          const first = await s.appendMessage({ convId: general.id, senderId: a.id, ts: 1000, body: new Uint8Array([1]), ref: 'r1' });
          assert.equal(first.seq, 1);
          assert.notEqual(first.duplicate, true);
          const again = await s.appendMessage({ convId: general.id, senderId: a.id, ts: 2000, body: new Uint8Array([1]), ref: 'r1' });
          assert.deepEqual({ seq: again.seq, ts: again.ts, duplicate: again.duplicate }, { seq: 1, ts: 1000, duplicate: true });
          assert.deepEqual(Buffer.from(again.body), Buffer.from([1]));
          // The same ref from another sender, or in another conversation, is another send.
          assert.equal((await s.appendMessage({ convId: general.id, senderId: b.id, ts: 3000, body: new Uint8Array([2]), ref: 'r1' })).seq, 2);
          assert.equal((await s.appendMessage({ convId: dm.id, senderId: a.id, ts: 3000, body: new Uint8Array([3]), ref: 'r1' })).seq, 1);
          // No ref: never deduplicated.
          assert.equal((await s.appendMessage({ convId: general.id, senderId: a.id, ts: 4000, body: new Uint8Array([1]) })).seq, 3);
          assert.deepEqual((await s.messagesAfter(general.id, 0, 10)).map((m) => m.seq), [1, 2, 3]);
          assert.equal((await s.getConversation(general.id))?.head, 3);
        }));

      it('two identical sends in one turn store one message and both resolve with its seq', () =>
        withStore(async (s) => {
          const a = await user(s);
          const { general } = await s.createServer({ name: 'Home', ownerId: a.id });
          const [x, y, z] = await Promise.all([
            s.appendMessage({ convId: general.id, senderId: a.id, ts: 10, body: new Uint8Array([1]), ref: 'same' }),
            s.appendMessage({ convId: general.id, senderId: a.id, ts: 11, body: new Uint8Array([1]), ref: 'same' }),
            s.appendMessage({ convId: general.id, senderId: a.id, ts: 12, body: new Uint8Array([2]), ref: 'other' }),
          ]);
          assert.deepEqual([x.seq, y.seq, z.seq], [1, 1, 2]);
          assert.deepEqual([x.duplicate === true, y.duplicate === true, z.duplicate === true], [false, true, false]);
          assert.equal(y.ts, 10);
          assert.deepEqual((await s.messagesAfter(general.id, 0, 10)).map((m) => m.seq), [1, 2]);
          // The heads stayed in step: the next append continues without a gap.
          assert.equal((await s.appendMessage({ convId: general.id, senderId: a.id, ts: 13, body: new Uint8Array([3]) })).seq, 3);
        }));

      it('senderHasRead moves the sender\'s read position with the message, in the same commit', () =>
        withStore(async (s) => {
          const a = await user(s);
          const b = await user(s);
          const { general } = await s.createServer({ name: 'Home', ownerId: a.id });
          await s.appendMessage({ convId: general.id, senderId: b.id, ts: 1, body: new Uint8Array([1]) });
          const m = await s.appendMessage({ convId: general.id, senderId: a.id, ts: 2, body: new Uint8Array([2]), senderHasRead: true });
          assert.equal((await s.getLastRead(a.id, [general.id])).get(general.id), m.seq);
          assert.equal((await s.getLastRead(b.id, [general.id])).get(general.id), 0, 'the sender only');
          await s.appendMessage({ convId: general.id, senderId: b.id, ts: 3, body: new Uint8Array([3]) });
          assert.equal((await s.getLastRead(b.id, [general.id])).get(general.id), 0, 'without the flag, no read position');
        }));

      it('rejects an append to an unknown conversation without disturbing others', () =>
        withStore(async (s) => {
          const a = await user(s);
          const { general } = await s.createServer({ name: 'Home', ownerId: a.id });
          const [bad, good] = await Promise.allSettled([
            s.appendMessage({ convId: 'no-such-conv', senderId: a.id, ts: 1, body: new Uint8Array([1]) }),
            s.appendMessage({ convId: general.id, senderId: a.id, ts: 1, body: new Uint8Array([1]) }),
          ]);
          assert.equal(bad.status, 'rejected');
          assert.equal((bad as PromiseRejectedResult).reason.code, 'NOT_FOUND');
          assert.equal(good.status, 'fulfilled');
          assert.equal((good as PromiseFulfilledResult<{ seq: number }>).value.seq, 1);
        }));

      it('pages history forward and backward', () =>
        withStore(async (s) => {
          const a = await user(s);
          const { general } = await s.createServer({ name: 'Home', ownerId: a.id });
          await Promise.all(Array.from({ length: 25 }, (_, i) => s.appendMessage({ convId: general.id, senderId: a.id, ts: 1000 + i, body: new Uint8Array([i]) })));
          const seqs = (ms: { seq: number }[]) => ms.map((m) => m.seq);
          const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
          assert.deepEqual(seqs(await s.messagesAfter(general.id, 0, 10)), range(1, 10));
          assert.deepEqual(seqs(await s.messagesAfter(general.id, 10, 10)), range(11, 20));
          assert.deepEqual(seqs(await s.messagesAfter(general.id, 20, 10)), range(21, 25));
          assert.deepEqual(await s.messagesAfter(general.id, 25, 10), []);
          assert.deepEqual(seqs(await s.messagesBefore(general.id, null, 10)), range(16, 25), 'newest, ascending');
          assert.deepEqual(seqs(await s.messagesBefore(general.id, 16, 10)), range(6, 15));
          assert.deepEqual(seqs(await s.messagesBefore(general.id, 6, 10)), range(1, 5));
          assert.deepEqual(await s.messagesBefore(general.id, 1, 10), []);
          assert.deepEqual(await s.messagesAfter('no-such-conv', 0, 10), []);
          assert.deepEqual(await s.messagesBefore('no-such-conv', null, 10), []);
          assert.deepEqual(await s.messagesAfter(general.id, 0, 0), []);
        }));

      it('purges messages older than the cutoff, everywhere, and keeps seqs going', () =>
        withStore(async (s) => {
          const a = await user(s);
          const { general } = await s.createServer({ name: 'Home', ownerId: a.id });
          const dm = await s.getOrCreateDm(a.id, (await user(s)).id);
          const old = 1_000_000;
          const fresh = Date.now();
          for (const convId of [general.id, dm.id]) {
            await Promise.all([
              s.appendMessage({ convId, senderId: a.id, ts: old, body: new Uint8Array([1]) }),
              s.appendMessage({ convId, senderId: a.id, ts: old + 1, body: new Uint8Array([2]) }),
              s.appendMessage({ convId, senderId: a.id, ts: fresh, body: new Uint8Array([3]) }),
            ]);
          }
          assert.equal(await s.purgeMessagesBefore(old + 1), 2, 'strictly older than the cutoff');
          assert.deepEqual((await s.messagesAfter(general.id, 0, 10)).map((m) => m.seq), [2, 3]);
          assert.equal(await s.purgeMessagesBefore(fresh), 2);
          assert.deepEqual((await s.messagesAfter(dm.id, 0, 10)).map((m) => m.seq), [3]);
          assert.equal(await s.purgeMessagesBefore(fresh), 0);
          assert.equal((await s.getConversation(general.id))?.head, 3, 'head survives a purge');
          assert.equal((await s.appendMessage({ convId: general.id, senderId: a.id, ts: fresh, body: new Uint8Array([4]) })).seq, 4);
        }));
    });

    describe('read state', () => {
      it('stores the last read seq per user and conversation, missing = 0', () =>
        withStore(async (s) => {
          const a = await user(s);
          const b = await user(s);
          const { server, general } = await s.createServer({ name: 'Home', ownerId: a.id });
          const other = await s.createChannel({ serverId: server.id, name: 'other', createdBy: a.id });
          assert.deepEqual(await s.getLastRead(a.id, []), new Map());
          assert.deepEqual(await s.getLastRead(a.id, [general.id, other.id]), new Map([[general.id, 0], [other.id, 0]]));
          await s.setLastRead(a.id, general.id, 5);
          await s.setLastRead(b.id, general.id, 2);
          assert.deepEqual(await s.getLastRead(a.id, [general.id, other.id]), new Map([[general.id, 5], [other.id, 0]]));
          assert.deepEqual(await s.getLastRead(b.id, [general.id]), new Map([[general.id, 2]]));
          await s.setLastRead(a.id, general.id, 9);
          assert.equal((await s.getLastRead(a.id, [general.id])).get(general.id), 9);
          await s.setLastRead(a.id, general.id, 3);
          assert.equal((await s.getLastRead(a.id, [general.id])).get(general.id), 9, 'never moves back');
        }));

      it('setLastRead calls in one turn coalesce to the highest seq; an unknown conversation fails alone', () =>
        withStore(async (s) => {
          const a = await user(s);
          const { general } = await s.createServer({ name: 'Home', ownerId: a.id });
          const results = await Promise.allSettled([
            s.setLastRead(a.id, general.id, 4),
            s.setLastRead(a.id, general.id, 7),
            s.setLastRead(a.id, general.id, 2),
            s.setLastRead(a.id, 'no-such-conv', 1),
            s.appendMessage({ convId: general.id, senderId: a.id, ts: 1, body: new Uint8Array([1]) }),
          ]);
          assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
          assert.equal((results[3] as PromiseRejectedResult).reason.code, 'NOT_FOUND');
          assert.equal((await s.getLastRead(a.id, [general.id])).get(general.id), 7);
          assert.equal((await s.getConversation(general.id))?.head, 1, 'the append in the same batch committed');
        }));
    });
  });
}
