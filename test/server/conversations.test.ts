// The conversations API over HTTP: the list with unread counts, history paging, servers, channels, groups, DMs, leaving and kicking, and the live `conversations` notices.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { api, inviteToken, registerInvited, setupOwner, type SignedIn } from '../helpers/client.ts';
import { connect } from '../helpers/direct.ts';

async function three(t: { after(fn: () => Promise<void>): void }): Promise<{ s: TestServer; owner: SignedIn; bob: SignedIn; carol: SignedIn }> {
  const s = await startTestServer({ limits: { registrationsPerHour: 1000, loginsPerMinute: 1000 } });
  t.after(() => s.close());
  const owner = await setupOwner(s);
  const [bob, carol] = await Promise.all([registerInvited(s, 'bob'), registerInvited(s, 'carol')]);
  return { s, owner, bob, carol };
}

const text = (s: string) => new TextEncoder().encode(s);

test('the list has servers (default first) with channels, groups and DMs, with head, lastRead and unread', async (t) => {
  const { s, owner, bob } = await three(t);
  const club = (await api(s, bob.cookie, 'POST', '/api/servers', { name: 'Club' })).body;
  assert.equal(club.role, 'owner');
  assert.deepEqual(club.channels.map((c: { name: string }) => c.name), ['general']);
  const group = (await api(s, bob.cookie, 'POST', '/api/groups', { name: 'Trip', members: ['owner'] })).body;
  const dm = (await api(s, bob.cookie, 'POST', '/api/dms', { username: 'owner' })).body;
  for (let i = 0; i < 5; i++) await s.store.appendMessage({ convId: dm.id, senderId: owner.user.id, ts: Date.now(), body: text(`m${i}`) });
  await s.store.setLastRead(bob.user.id, dm.id, 2);

  const list = (await api(s, bob.cookie, 'GET', '/api/conversations')).body;
  assert.deepEqual(list.servers.map((x: { name: string }) => x.name), ['chatroom', 'Club']);
  assert.equal(list.servers[0].role, 'member');
  assert.equal(list.servers[1].channels[0].serverId, club.id);
  assert.deepEqual(list.groups, [{ id: group.id, kind: 'group', name: 'Trip', head: 0, lastRead: 0, unread: 0 }]);
  assert.deepEqual(list.dms, [{ id: dm.id, kind: 'dm', name: 'owner', head: 5, lastRead: 2, unread: 3 }]);
  const ownerDms = (await api(s, owner.cookie, 'GET', '/api/conversations')).body.dms;
  assert.equal(ownerDms[0].name, 'bob', 'a DM is named after the other person');
  assert.equal(ownerDms[0].unread, 5);
});

test('history pages go backwards from the newest, with hasMore, bodies as base64 and sender names', async (t) => {
  const { s, owner, bob } = await three(t);
  const dm = (await api(s, bob.cookie, 'POST', '/api/dms', { username: 'owner' })).body.id;
  for (let i = 1; i <= 5; i++) {
    await s.store.appendMessage({ convId: dm, senderId: i % 2 ? owner.user.id : bob.user.id, ts: 1000 + i, body: text(`m${i}`) });
  }
  const page = async (q: string) => (await api(s, bob.cookie, 'GET', `/api/conversations/${dm}/messages${q}`)).body;
  const newest = await page('?limit=2');
  assert.deepEqual(newest.messages.map((m: { seq: number }) => m.seq), [4, 5]);
  assert.equal(newest.hasMore, true);
  assert.deepEqual(newest.messages[1], { conv: dm, seq: 5, sender: owner.user.id, senderName: 'owner', ts: 1005, body: Buffer.from('m5').toString('base64') });
  assert.equal(newest.messages[0].senderName, 'bob');
  assert.deepEqual((await page('?limit=2&before=4')).messages.map((m: { seq: number }) => m.seq), [2, 3]);
  const last = await page('?limit=2&before=2');
  assert.deepEqual(last.messages.map((m: { seq: number }) => m.seq), [1]);
  assert.equal(last.hasMore, false);
  const all = await page('');
  assert.equal(all.messages.length, 5);
  assert.equal(all.hasMore, false);
});

test('DMs: one per pair, not with yourself, not with nobody', async (t) => {
  const { s, owner, bob } = await three(t);
  const a = await api(s, bob.cookie, 'POST', '/api/dms', { username: 'owner' });
  const b = await api(s, owner.cookie, 'POST', '/api/dms', { username: 'BOB' });
  assert.equal(a.body.id, b.body.id);
  assert.equal(b.body.name, 'bob');
  assert.equal((await api(s, bob.cookie, 'POST', '/api/dms', { username: 'bob' })).body.error.code, 'BAD_REQUEST');
  const nobody = await api(s, bob.cookie, 'POST', '/api/dms', { username: 'nobody' });
  assert.equal(nobody.status, 404);
  assert.equal(nobody.body.error.code, 'NOT_FOUND');
});

test('groups: the creator is a member, unknown members are refused, leaving removes access', async (t) => {
  const { s, bob, carol } = await three(t);
  assert.equal((await api(s, bob.cookie, 'POST', '/api/groups', { name: 'G', members: ['carol', 'ghost'] })).status, 404);
  const g = (await api(s, bob.cookie, 'POST', '/api/groups', { name: 'G', members: ['carol', 'carol'] })).body;
  const members = (await api(s, carol.cookie, 'GET', `/api/conversations/${g.id}/members`)).body.members;
  assert.deepEqual(members.map((m: { username: string }) => m.username).sort(), ['bob', 'carol']);
  assert.equal((await api(s, carol.cookie, 'POST', `/api/groups/${g.id}/leave`)).status, 204);
  assert.equal((await api(s, carol.cookie, 'GET', `/api/conversations/${g.id}/messages`)).status, 404);
  assert.equal((await api(s, carol.cookie, 'POST', `/api/groups/${g.id}/leave`)).status, 404);
  assert.deepEqual((await api(s, carol.cookie, 'GET', '/api/conversations')).body.groups, []);
});

test('servers: the owner cannot leave or be kicked; a member can leave; nobody kicks themselves', async (t) => {
  const { s, owner, bob } = await three(t);
  const club = (await api(s, owner.cookie, 'POST', '/api/servers', { name: 'Club' })).body;
  await api(s, bob.cookie, 'POST', `/api/invites/${await inviteToken(s, { serverId: club.id })}/accept`);
  assert.equal((await api(s, owner.cookie, 'POST', `/api/servers/${club.id}/leave`)).body.error.code, 'FORBIDDEN');
  assert.equal((await api(s, owner.cookie, 'POST', `/api/servers/${club.id}/kick`, { userId: owner.user.id })).body.error.code, 'FORBIDDEN');
  const notMember = await api(s, owner.cookie, 'POST', `/api/servers/${club.id}/kick`, { userId: 'no-such-user' });
  assert.equal(notMember.status, 404);
  assert.equal((await api(s, bob.cookie, 'POST', `/api/servers/${club.id}/leave`)).status, 204);
  const names = (await api(s, bob.cookie, 'GET', '/api/conversations')).body.servers.map((x: { name: string }) => x.name);
  assert.deepEqual(names, ['chatroom']);
  assert.equal((await api(s, bob.cookie, 'GET', `/api/conversations/${club.channels[0].id}/members`)).status, 404);
});

test('members show who is online right now', async (t) => {
  const { s, owner, bob } = await three(t);
  const dm = (await api(s, bob.cookie, 'POST', '/api/dms', { username: 'owner' })).body.id;
  const online = async () =>
    Object.fromEntries((await api(s, bob.cookie, 'GET', `/api/conversations/${dm}/members`)).body.members.map((m: { username: string; online: boolean }) => [m.username, m.online]));
  assert.deepEqual(await online(), { bob: false, owner: false });
  const socket = await connect(s, owner.cookie);
  assert.deepEqual(await online(), { bob: false, owner: true });
  await socket.close();
});

test('membership changes reach the affected users live; a kick drops the channel subscription', async (t) => {
  const { s, owner, bob, carol } = await three(t);
  const bobWs = await connect(s, bob.cookie);
  const carolWs = await connect(s, carol.cookie);
  t.after(async () => {
    await bobWs.close();
    await carolWs.close();
  });

  await api(s, owner.cookie, 'POST', '/api/groups', { name: 'G', members: ['bob'] });
  await bobWs.nextOf('conversations');
  await api(s, owner.cookie, 'POST', '/api/dms', { username: 'carol' });
  await carolWs.nextOf('conversations');

  const general = (await api(s, bob.cookie, 'GET', '/api/conversations')).body.servers[0].channels[0].id;
  await bobWs.subscribe(general);
  assert.equal((await api(s, owner.cookie, 'POST', `/api/servers/${(await s.store.getDefaultServer())!.id}/kick`, { userId: bob.user.id })).status, 204);
  const removed = await bobWs.nextOf('conversations', (f) => f.removed === general);
  assert.equal(removed.removed, general);
  assert.deepEqual((await api(s, bob.cookie, 'GET', '/api/conversations')).body.servers, []);

  const channel = (await api(s, owner.cookie, 'POST', `/api/servers/${(await s.store.getDefaultServer())!.id}/channels`, { name: 'news' })).body;
  assert.equal(channel.name, 'news');
  await carolWs.nextOf('conversations');
});
