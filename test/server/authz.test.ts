// Authorization matrix: member / non-member / kicked / banned × history, members, create channel, invite — for channels, groups and DMs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { api, inviteToken, registerInvited, setupOwner, type ApiResponse, type SignedIn } from '../helpers/client.ts';
import { newId } from '../../src/server/auth/tokens.ts';

interface World {
  s: TestServer;
  owner: SignedIn;
  member: SignedIn;
  outsider: SignedIn;
  kicked: SignedIn;
  banned: SignedIn;
  clubId: string;
  clubChannel: string;
  group: string;
  dm: string;
}

async function world(t: { after(fn: () => Promise<void>): void }): Promise<World> {
  const s = await startTestServer({ limits: { loginsPerMinute: 1000, registrationsPerHour: 1000 } });
  t.after(() => s.close());
  const owner = await setupOwner(s);
  const [member, outsider, kicked, banned] = await Promise.all(['member', 'outsider', 'kicked', 'banned'].map((n) => registerInvited(s, n)));
  const club = await api(s, owner.cookie, 'POST', '/api/servers', { name: 'Club' });
  const clubId: string = club.body.id;
  const clubChannel: string = club.body.channels[0].id;
  for (const who of [member, kicked, banned]) {
    const token = await inviteToken(s, { serverId: clubId });
    assert.equal((await api(s, who.cookie, 'POST', `/api/invites/${token}/accept`)).status, 200);
  }
  assert.equal((await api(s, owner.cookie, 'POST', `/api/servers/${clubId}/kick`, { userId: kicked.user.id })).status, 204);
  assert.equal((await api(s, owner.cookie, 'POST', `/api/servers/${clubId}/ban`, { userId: banned.user.id })).status, 204);
  const group = (await api(s, owner.cookie, 'POST', '/api/groups', { name: 'Trip', members: ['member', 'kicked'] })).body.id;
  assert.equal((await api(s, owner.cookie, 'POST', '/api/groups/' + group + '/members', { username: 'banned' })).status, 204);
  // "kicked" and "banned" leave the group, so they stand for former members there too.
  assert.equal((await api(s, kicked.cookie, 'POST', `/api/groups/${group}/leave`)).status, 204);
  assert.equal((await api(s, banned.cookie, 'POST', `/api/groups/${group}/leave`)).status, 204);
  const dm = (await api(s, owner.cookie, 'POST', '/api/dms', { username: 'member' })).body.id;
  for (const conv of [clubChannel, group, dm]) {
    await s.store.appendMessage({ convId: conv, senderId: owner.user.id, ts: Date.now(), body: new TextEncoder().encode(`hello ${conv}`) });
  }
  return { s, owner, member, outsider, kicked, banned, clubId, clubChannel, group, dm };
}

type Op = { name: string; request: (w: World, who: SignedIn, id: string) => Promise<ApiResponse> };

const conversationOps: Op[] = [
  { name: 'history', request: (w, who, id) => api(w.s, who.cookie, 'GET', `/api/conversations/${id}/messages`) },
  { name: 'members', request: (w, who, id) => api(w.s, who.cookie, 'GET', `/api/conversations/${id}/members`) },
];

/** The answer for an id that does not exist: what every outsider must get, byte for byte. */
async function missing(w: World, op: Op, who: SignedIn) {
  const res = await op.request(w, who, newId());
  assert.equal(res.status, 404);
  assert.equal(res.body.error.code, 'NOT_FOUND');
  return res.text;
}

test('outsiders, kicked and banned users get exactly the missing-id answer for a server channel', async (t) => {
  const w = await world(t);
  for (const op of conversationOps) {
    for (const who of [w.member, w.owner]) {
      const res = await op.request(w, who, w.clubChannel);
      assert.equal(res.status, 200, `${op.name} as a member`);
    }
    for (const who of [w.outsider, w.kicked, w.banned]) {
      const res = await op.request(w, who, w.clubChannel);
      assert.equal(res.status, 404, `${op.name} as ${who.user.username}`);
      assert.equal(res.text, await missing(w, op, who), `${op.name} as ${who.user.username}`);
    }
  }
  const history = await api(w.s, w.member.cookie, 'GET', `/api/conversations/${w.clubChannel}/messages`);
  assert.equal(Buffer.from(history.body.messages[0].body, 'base64').toString(), `hello ${w.clubChannel}`);
  assert.equal(history.body.messages[0].senderName, 'owner');
  const members = await api(w.s, w.member.cookie, 'GET', `/api/conversations/${w.clubChannel}/members`);
  assert.deepEqual(members.body.members.map((m: { username: string }) => m.username).sort(), ['member', 'owner']);
});

test('creating channels and invites: owner yes, member forbidden, everyone else as if the server did not exist', async (t) => {
  const w = await world(t);
  const serverOps: Op[] = [
    { name: 'create channel', request: (x, who, id) => api(x.s, who.cookie, 'POST', `/api/servers/${id}/channels`, { name: 'random' }) },
    { name: 'invite', request: (x, who, id) => api(x.s, who.cookie, 'POST', `/api/servers/${id}/invites`) },
    { name: 'kick', request: (x, who, id) => api(x.s, who.cookie, 'POST', `/api/servers/${id}/kick`, { userId: x.member.user.id }) },
  ];
  for (const op of serverOps) {
    const asMember = await op.request(w, w.member, w.clubId);
    assert.equal(asMember.status, 403, `${op.name} as a plain member`);
    assert.equal(asMember.body.error.code, 'FORBIDDEN');
    for (const who of [w.outsider, w.kicked, w.banned]) {
      const res = await op.request(w, who, w.clubId);
      assert.equal(res.text, await missing(w, op, who), `${op.name} as ${who.user.username}`);
    }
  }
  const channel = await api(w.s, w.owner.cookie, 'POST', `/api/servers/${w.clubId}/channels`, { name: 'random' });
  assert.equal(channel.status, 200);
  assert.equal(channel.body.name, 'random');
  assert.equal(channel.body.serverId, w.clubId);
  assert.equal((await api(w.s, w.member.cookie, 'GET', `/api/conversations/${channel.body.id}/messages`)).status, 200);
  assert.equal((await api(w.s, w.outsider.cookie, 'GET', `/api/conversations/${channel.body.id}/messages`)).status, 404);
  assert.equal((await api(w.s, w.owner.cookie, 'POST', `/api/servers/${w.clubId}/invites`)).status, 200);
});

test('groups: members read and invite; outsiders and former members get the missing-id answer', async (t) => {
  const w = await world(t);
  const inviteOp: Op = { name: 'add member', request: (x, who, id) => api(x.s, who.cookie, 'POST', `/api/groups/${id}/members`, { username: 'outsider' }) };
  for (const op of [...conversationOps, inviteOp]) {
    for (const who of [w.outsider, w.kicked, w.banned]) {
      const res = await op.request(w, who, w.group);
      assert.equal(res.status, 404, `${op.name} as ${who.user.username}`);
      assert.equal(res.text, await missing(w, op, who), `${op.name} as ${who.user.username}`);
    }
  }
  for (const op of conversationOps) assert.equal((await op.request(w, w.member, w.group)).status, 200, op.name);
  assert.equal((await inviteOp.request(w, w.member, w.group)).status, 204, 'any member may add people by default');
  assert.equal((await api(w.s, w.outsider.cookie, 'GET', `/api/conversations/${w.group}/messages`)).status, 200, 'the added user can read');
});

test('DMs: only the two people can see one', async (t) => {
  const w = await world(t);
  for (const op of conversationOps) {
    for (const who of [w.owner, w.member]) assert.equal((await op.request(w, who, w.dm)).status, 200, op.name);
    for (const who of [w.outsider, w.kicked, w.banned]) {
      const res = await op.request(w, who, w.dm);
      assert.equal(res.text, await missing(w, op, who), `${op.name} as ${who.user.username}`);
    }
  }
  // A DM is not a group: adding people answers like a missing group.
  const add = await api(w.s, w.member.cookie, 'POST', `/api/groups/${w.dm}/members`, { username: 'outsider' });
  assert.equal(add.status, 404);
});

test('banned users cannot come back through an invite until unbanned; kicked users can', async (t) => {
  const w = await world(t);
  const token = await inviteToken(w.s, { serverId: w.clubId });
  const refused = await api(w.s, w.banned.cookie, 'POST', `/api/invites/${token}/accept`);
  assert.equal(refused.status, 403);
  assert.equal(refused.body.error.code, 'BANNED');
  assert.equal((await api(w.s, w.member.cookie, 'DELETE', `/api/servers/${w.clubId}/bans/${w.banned.user.id}`)).status, 403);
  assert.equal((await api(w.s, w.owner.cookie, 'DELETE', `/api/servers/${w.clubId}/bans/${w.banned.user.id}`)).status, 204);
  assert.equal((await api(w.s, w.banned.cookie, 'POST', `/api/invites/${token}/accept`)).status, 200, 'the refused attempt did not spend it');
  const back = await api(w.s, w.kicked.cookie, 'POST', `/api/invites/${await inviteToken(w.s, { serverId: w.clubId })}/accept`);
  assert.equal(back.status, 200);
  assert.equal((await api(w.s, w.kicked.cookie, 'GET', `/api/conversations/${w.clubChannel}/messages`)).status, 200);
});

test('without groupMembersCanInvite only the creator adds people', async (t) => {
  const s = await startTestServer({ groupMembersCanInvite: false, limits: { registrationsPerHour: 1000 } });
  t.after(() => s.close());
  const owner = await setupOwner(s);
  const a = await registerInvited(s, 'alpha');
  await registerInvited(s, 'beta');
  const group = (await api(s, owner.cookie, 'POST', '/api/groups', { name: 'G', members: ['alpha'] })).body.id;
  const denied = await api(s, a.cookie, 'POST', `/api/groups/${group}/members`, { username: 'beta' });
  assert.equal(denied.status, 403);
  assert.equal(denied.body.error.code, 'FORBIDDEN');
  assert.equal((await api(s, owner.cookie, 'POST', `/api/groups/${group}/members`, { username: 'beta' })).status, 204);
});

test('every conversation route needs a session', async (t) => {
  const w = await world(t);
  const routes: Array<[string, string, unknown?]> = [
    ['GET', '/api/conversations'],
    ['GET', `/api/conversations/${w.dm}/messages`],
    ['GET', `/api/conversations/${w.dm}/members`],
    ['POST', '/api/servers', { name: 'x' }],
    ['POST', `/api/servers/${w.clubId}/channels`, { name: 'x' }],
    ['POST', `/api/servers/${w.clubId}/leave`],
    ['POST', '/api/groups', { name: 'x', members: [] }],
    ['POST', `/api/groups/${w.group}/leave`],
    ['POST', '/api/dms', { username: 'member' }],
    ['POST', '/api/invites', {}],
    ['GET', '/api/me'],
  ];
  for (const [method, path, body] of routes) {
    const res = await api(w.s, null, method, path, body);
    assert.equal(res.status, 401, `${method} ${path}`);
    assert.equal(res.body.error.code, 'UNAUTHENTICATED');
  }
});
