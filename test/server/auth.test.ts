// Accounts over real HTTP: setup link, invite/open/closed sign-up, sign-in, sessions, fake salts, rate limits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import {
  api,
  inviteToken,
  login,
  loginRaw,
  register,
  registerRaw,
  registerInvited,
  sentBodies,
  sessionCookieOf,
  setupOwner,
} from '../helpers/client.ts';
import { connect } from '../helpers/direct.ts';
import { createInviteLink, ensureSetupLink } from '../../src/server/invites.ts';
import { CloseCode } from '../../src/shared/protocol.ts';
import { SESSION_COOKIE } from '../../src/server/auth/tokens.ts';

/** Generous sign-up/sign-in limits so only the rate-limit test meets them. */
const roomy = { limits: { loginsPerMinute: 1000, registrationsPerHour: 1000 } };

async function server(t: { after(fn: () => Promise<void>): void }, partial: Parameters<typeof startTestServer>[0] = {}): Promise<TestServer> {
  const s = await startTestServer({ ...roomy, ...partial, limits: { ...roomy.limits, ...partial.limits } });
  t.after(() => s.close());
  return s;
}

test('the setup link creates the instance owner and the default server named after the instance', async (t) => {
  const s = await server(t, { name: 'Family chat' });
  assert.deepEqual((await api(s, null, 'GET', '/api/instance')).body, { name: 'Family chat', registration: 'invite', needsSetup: true });
  const link = await ensureSetupLink(s.store, s.url, 1);
  assert.ok(link && new URL(link.url).pathname === `/setup/${link.token}`);
  assert.deepEqual((await api(s, null, 'GET', `/api/invites/${link.token}`)).body, { kind: 'setup', instanceName: 'Family chat' });

  const owner = await register(s, 'Ada', 'correct horse battery staple', link.token);
  assert.equal(owner.user.role, 'owner');
  const me = await api(s, owner.cookie, 'GET', '/api/me');
  assert.deepEqual(me.body, { user: owner.user, instance: { name: 'Family chat', registration: 'invite' } });
  assert.equal((await api(s, null, 'GET', '/api/instance')).body.needsSetup, false);

  const list = await api(s, owner.cookie, 'GET', '/api/conversations');
  assert.equal(list.body.servers.length, 1);
  assert.equal(list.body.servers[0].name, 'Family chat');
  assert.equal(list.body.servers[0].role, 'owner');
  assert.deepEqual(list.body.servers[0].channels.map((c: { name: string }) => c.name), ['general']);

  // Used once; and no further setup link is handed out or honoured once an account exists.
  const again = await registerRaw(s, 'mallory', 'whatever password', link.token);
  assert.equal(again.status, 403);
  assert.equal(again.body.error.code, 'INVITE_INVALID');
  assert.equal(await ensureSetupLink(s.store, s.url, 1), null);
  const stale = await createInviteLink(s.store, s.url, { kind: 'setup', ttlHours: 1 });
  assert.equal((await api(s, null, 'GET', `/api/invites/${stale.token}`)).status, 404);
  const late = await registerRaw(s, 'mallory', 'whatever password', stale.token);
  assert.equal(late.body.error.code, 'INVITE_INVALID');
});

test('the verifier is argon2id of the login key, and the password never leaves the client', async (t) => {
  const s = await server(t);
  const password = 'a very particular passphrase 4711';
  sentBodies.length = 0;
  const owner = await setupOwner(s, 'owner', password);
  await login(s, 'owner', password);
  const creds = await s.store.getCredentials(owner.user.id);
  assert.ok(creds?.verifier.startsWith('$argon2id$v=19$m=19456,t=2,p=1$'));
  assert.ok(sentBodies.length >= 3);
  for (const body of sentBodies) {
    for (let i = 0; i + 8 <= password.length; i++) assert.ok(!body.includes(password.slice(i, i + 8)), 'a piece of the password was sent');
  }
});

test('invite mode: sign-up needs an invite; invites are single-use, expire, and can name a server', async (t) => {
  const s = await server(t);
  const owner = await setupOwner(s);

  const none = await registerRaw(s, 'bob', 'bob password here');
  assert.equal(none.status, 403);
  assert.equal(none.body.error.code, 'REGISTRATION_CLOSED');
  const bogus = await registerRaw(s, 'bob', 'bob password here', 'not-a-real-token');
  assert.equal(bogus.status, 403);
  assert.equal(bogus.body.error.code, 'INVITE_INVALID');

  const created = await api(s, owner.cookie, 'POST', '/api/invites', {});
  assert.equal(created.status, 200);
  assert.equal(new URL(created.body.url).pathname, `/invite/${created.body.token}`);
  assert.deepEqual((await api(s, null, 'GET', `/api/invites/${created.body.token}`)).body, { kind: 'invite', instanceName: 'chatroom' });
  const bob = await register(s, 'bob', 'bob password here', created.body.token);
  assert.equal(bob.user.role, 'member');
  const bobList = await api(s, bob.cookie, 'GET', '/api/conversations');
  assert.equal(bobList.body.servers.length, 1, 'bob joined the default server');

  const reused = await registerRaw(s, 'carol', 'carol password here', created.body.token);
  assert.equal(reused.body.error.code, 'INVITE_INVALID');
  const info = await api(s, null, 'GET', `/api/invites/${created.body.token}`);
  assert.equal(info.status, 404);
  assert.equal(info.body.error.code, 'INVITE_INVALID');

  const expired = await inviteToken(s, { ttlHours: 1, now: Date.now() - 2 * 3_600_000 });
  assert.equal((await registerRaw(s, 'carol', 'carol password here', expired)).body.error.code, 'INVITE_INVALID');

  const club = await api(s, owner.cookie, 'POST', '/api/servers', { name: 'Book club' });
  const clubInvite = await api(s, owner.cookie, 'POST', `/api/servers/${club.body.id}/invites`);
  assert.equal(clubInvite.status, 200);
  assert.equal((await api(s, null, 'GET', `/api/invites/${clubInvite.body.token}`)).body.serverName, 'Book club');
  const carol = await register(s, 'carol', 'carol password here', clubInvite.body.token);
  const carolServers = (await api(s, carol.cookie, 'GET', '/api/conversations')).body.servers.map((x: { name: string }) => x.name);
  assert.deepEqual(carolServers.sort(), ['Book club', 'chatroom']);

  // Members cannot mint instance invites; a signed-in user can accept a server invite.
  assert.equal((await api(s, bob.cookie, 'POST', '/api/invites', {})).body.error.code, 'FORBIDDEN');
  const another = await api(s, owner.cookie, 'POST', `/api/servers/${club.body.id}/invites`);
  const accepted = await api(s, bob.cookie, 'POST', `/api/invites/${another.body.token}/accept`);
  assert.equal(accepted.status, 200);
  assert.equal(accepted.body.name, 'Book club');
  assert.equal(accepted.body.role, 'member');
});

test('a taken username is refused case-insensitively without spending the invite', async (t) => {
  const s = await server(t);
  await setupOwner(s, 'Owner');
  const token = await inviteToken(s);
  const taken = await registerRaw(s, 'OWNER', 'another password', token);
  assert.equal(taken.status, 409);
  assert.equal(taken.body.error.code, 'USERNAME_TAKEN');
  await register(s, 'someone', 'another password', token);
});

test('usernames: 3 to 32 letters, digits, dot, dash, underscore', async (t) => {
  const s = await server(t, { registration: 'open' });
  await setupOwner(s);
  for (const bad of ['ab', 'x'.repeat(33), 'has space', 'émile']) {
    const res = await registerRaw(s, bad, 'some password here');
    assert.equal(res.status, 400, bad);
    assert.equal(res.body.error.code, 'BAD_REQUEST');
    assert.match(res.body.error.message, /username/);
  }
  await register(s, 'abc', 'some password here');
  await register(s, 'y'.repeat(32), 'some password here');
  await register(s, 'a.b-c_d', 'some password here');
});

test('open mode signs up without an invite; before setup only the setup link works', async (t) => {
  const s = await server(t, { registration: 'open' });
  const early = await registerRaw(s, 'eager', 'eager password');
  assert.equal(early.status, 403);
  assert.equal(early.body.error.code, 'REGISTRATION_CLOSED');
  await setupOwner(s);
  const walkIn = await register(s, 'walkin', 'walk in password');
  assert.equal(walkIn.user.role, 'member');
  assert.equal((await api(s, walkIn.cookie, 'GET', '/api/conversations')).body.servers.length, 1);
  assert.equal((await api(s, null, 'GET', '/api/instance')).body.registration, 'open');
});

test('closed mode refuses every new account except through the setup link', async (t) => {
  const s = await server(t, { registration: 'closed' });
  const owner = await setupOwner(s);
  assert.equal(owner.user.role, 'owner');
  assert.equal((await registerRaw(s, 'nobody', 'nobody password')).body.error.code, 'REGISTRATION_CLOSED');
  const token = await inviteToken(s);
  const invited = await registerRaw(s, 'nobody', 'nobody password', token);
  assert.equal(invited.status, 403);
  assert.equal(invited.body.error.code, 'REGISTRATION_CLOSED');
});

test('a wrong password and an unknown user get the same 401 BAD_CREDENTIALS', async (t) => {
  const s = await server(t);
  await setupOwner(s, 'owner', 'the right password');
  const wrong = await loginRaw(s, 'owner', 'the wrong password');
  const unknown = await loginRaw(s, 'ghost', 'the wrong password');
  assert.equal(wrong.status, 401);
  assert.equal(unknown.status, 401);
  assert.equal(wrong.text, unknown.text);
  assert.equal(wrong.body.error.code, 'BAD_CREDENTIALS');
  assert.equal(sessionCookieOf(wrong), null);
  const right = await login(s, 'OWNER', 'the right password');
  assert.equal(right.user.username, 'owner');
});

test('params for unknown usernames look like real ones and are stable', async (t) => {
  const s = await server(t);
  const owner = await setupOwner(s);
  const params = async (username: string) => (await api(s, null, 'POST', '/api/auth/params', { username })).body;
  const real = await params('owner');
  const creds = await s.store.getCredentials(owner.user.id);
  assert.deepEqual(real, { salt: Buffer.from(creds!.salt).toString('base64'), iterations: 600_000 });

  const ghost = await params('ghost');
  assert.deepEqual(Object.keys(ghost).sort(), Object.keys(real).sort());
  assert.equal(Buffer.from(ghost.salt, 'base64').length, 16);
  assert.equal(ghost.iterations, real.iterations);
  assert.deepEqual(await params('ghost'), ghost);
  assert.deepEqual(await params('GHOST'), ghost, 'case-insensitive like real usernames');
  assert.notEqual((await params('ghost2')).salt, ghost.salt);

  // Another instance (another secret key) gives another fake salt for the same name.
  const other = await server(t);
  assert.notEqual((await api(other, null, 'POST', '/api/auth/params', { username: 'ghost' })).body.salt, ghost.salt);
});

test('the session cookie is __Host-, Secure, HttpOnly, SameSite=Strict, 30 days; sign-in rotates it', async (t) => {
  const s = await server(t);
  await setupOwner(s, 'owner', 'owner password');
  const first = await loginRaw(s, 'owner', 'owner password');
  const setCookie = first.headers.getSetCookie().find((c) => c.startsWith(`${SESSION_COOKIE}=`));
  assert.ok(setCookie);
  const attrs = setCookie.split(';').map((p) => p.trim().toLowerCase());
  for (const a of ['path=/', 'secure', 'httponly', 'samesite=strict', 'max-age=2592000']) assert.ok(attrs.includes(a), a);
  assert.ok(!attrs.some((a) => a.startsWith('domain=')));
  const firstCookie = sessionCookieOf(first)!;

  const second = await loginRaw(s, 'owner', 'owner password', { cookie: firstCookie });
  const secondCookie = sessionCookieOf(second)!;
  assert.notEqual(secondCookie, firstCookie);
  assert.equal((await api(s, firstCookie, 'GET', '/api/me')).status, 401, 'the old session is gone');
  assert.equal((await api(s, secondCookie, 'GET', '/api/me')).status, 200);
});

test('logout ends the session, clears the cookie and closes its WebSocket', async (t) => {
  const s = await server(t);
  const owner = await setupOwner(s);
  const socket = await connect(s, owner.cookie);
  const out = await api(s, owner.cookie, 'POST', '/api/auth/logout');
  assert.equal(out.status, 204);
  const cleared = out.headers.getSetCookie().find((c) => c.startsWith(`${SESSION_COOKIE}=`));
  assert.ok(cleared && /max-age=0|expires=thu, 01 jan 1970/i.test(cleared));
  assert.equal((await socket.closed).code, CloseCode.signedOut);
  const me = await api(s, owner.cookie, 'GET', '/api/me');
  assert.equal(me.status, 401);
  assert.equal(me.body.error.code, 'UNAUTHENTICATED');
});

test('logout-others ends every other session of the user and keeps this one', async (t) => {
  const s = await server(t);
  const a = await setupOwner(s, 'owner', 'owner password');
  const b = await login(s, 'owner', 'owner password');
  const other = await registerInvited(s, 'bob');
  const bSocket = await connect(s, b.cookie);
  assert.equal((await api(s, null, 'POST', '/api/auth/logout-others')).status, 401);
  assert.equal((await api(s, a.cookie, 'POST', '/api/auth/logout-others')).status, 204);
  assert.equal((await bSocket.closed).code, CloseCode.signedOut);
  assert.equal((await api(s, b.cookie, 'GET', '/api/me')).status, 401);
  assert.equal((await api(s, a.cookie, 'GET', '/api/me')).status, 200);
  assert.equal((await api(s, other.cookie, 'GET', '/api/me')).status, 200, 'other users are untouched');
});

test('sign-in, sign-up and salt lookups are rate-limited per address with 429 and Retry-After', async (t) => {
  const s = await server(t, { limits: { loginsPerMinute: 2, registrationsPerHour: 2 } });
  await setupOwner(s, 'owner', 'owner password'); // 1st registration
  const key = Buffer.alloc(32).toString('base64');
  const attempt = () => api(s, null, 'POST', '/api/auth/login', { username: 'owner', loginKey: key });
  assert.equal((await attempt()).status, 401);
  assert.equal((await attempt()).status, 401);
  const limited = await attempt();
  assert.equal(limited.status, 429);
  assert.equal(limited.body.error.code, 'RATE_LIMITED');
  assert.match(limited.headers.get('retry-after') ?? '', /^[1-9]\d*$/);

  const token = await inviteToken(s);
  assert.equal((await registerRaw(s, 'second', 'second password', token)).status, 201);
  const third = await registerRaw(s, 'third', 'third password', await inviteToken(s));
  assert.equal(third.status, 429);
  assert.ok(Number(third.headers.get('retry-after')) > 60, 'the registration window is an hour');

  let params = 0;
  for (; params < 20; params++) {
    if ((await api(s, null, 'POST', '/api/auth/params', { username: 'x' })).status === 429) break;
  }
  assert.equal(params, 6, 'three salt lookups per allowed sign-in');
});
