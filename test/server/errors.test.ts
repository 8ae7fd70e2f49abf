// Bad input over real HTTP: malformed JSON, wrong types, unknown fields, oversized bodies, bad queries, garbage requests, internal failures — clear codes, no echo, server stays up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect as netConnect } from 'node:net';
import { rmSync } from 'node:fs';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { api, login, setupOwner, type ApiResponse } from '../helpers/client.ts';

/** A value that must never come back in an error message. */
const CANARY = 'zqx-canary-7731';

async function server(t: { after(fn: () => Promise<void>): void }): Promise<TestServer> {
  const s = await startTestServer({ limits: { loginsPerMinute: 1000, registrationsPerHour: 1000 } });
  t.after(() => s.close());
  return s;
}

function assertError(res: ApiResponse, status: number, code: string, what: string): void {
  assert.equal(res.status, status, `${what}: status (${res.text})`);
  assert.deepEqual(Object.keys(res.body ?? {}), ['error'], `${what}: body shape`);
  assert.equal(res.body.error.code, code, what);
  assert.equal(typeof res.body.error.message, 'string');
  assert.ok(!res.text.includes(CANARY), `${what}: the submitted value was echoed`);
}

test('malformed and mistyped bodies get 400 BAD_REQUEST naming the field, never the value', async (t) => {
  const s = await server(t);
  const owner = await setupOwner(s);
  const raw = (body: string, cookie: string | null = null, path = '/api/auth/login') => api(s, cookie, 'POST', path, body);

  assertError(await raw(`{"username": "${CANARY}", `), 400, 'BAD_REQUEST', 'truncated JSON');
  assertError(await raw(`${CANARY}`), 400, 'BAD_REQUEST', 'not JSON');
  assertError(await api(s, null, 'POST', '/api/auth/login', '', { contentType: 'application/json' }), 400, 'BAD_REQUEST', 'empty JSON body');
  assertError(await raw('[]'), 400, 'BAD_REQUEST', 'array instead of object');
  assertError(await raw('null'), 400, 'BAD_REQUEST', 'null body');
  assertError(await raw(`{"__proto__": {"x": "${CANARY}"}, "username": "a", "loginKey": "AAAA"}`), 400, 'BAD_REQUEST', 'prototype poisoning');

  const wrongType = await api(s, null, 'POST', '/api/auth/login', { username: 12345, loginKey: 'AAAA' });
  assertError(wrongType, 400, 'BAD_REQUEST', 'number for a string (no coercion)');
  assert.match(wrongType.body.error.message, /body\.username/);

  const missing = await api(s, null, 'POST', '/api/auth/login', { username: 'someone' });
  assertError(missing, 400, 'BAD_REQUEST', 'missing field');
  assert.match(missing.body.error.message, /body\.loginKey/);

  const pattern = await api(s, null, 'POST', '/api/auth/login', { username: 'someone', loginKey: `${CANARY}!!` });
  assertError(pattern, 400, 'BAD_REQUEST', 'not base64');
  assert.match(pattern.body.error.message, /body\.loginKey/);

  const shortKey = await api(s, null, 'POST', '/api/auth/login', { username: 'someone', loginKey: 'AAAA' });
  assertError(shortKey, 400, 'BAD_REQUEST', 'a login key that is not 32 bytes');

  const extra = await api(s, null, 'POST', '/api/auth/params', { username: 'someone', [CANARY]: 1 });
  assertError(extra, 400, 'BAD_REQUEST', 'unknown property (its name is the value here)');

  const register = await api(s, null, 'POST', '/api/auth/register', { username: 'bob', salt: 'AAAA', iterations: 1000, loginKey: 'AAAA' });
  assertError(register, 400, 'BAD_REQUEST', 'too few iterations');
  assert.match(register.body.error.message, /body\.iterations/);

  assertError(await api(s, owner.cookie, 'POST', '/api/groups', { name: '', members: [] }), 400, 'BAD_REQUEST', 'empty name');
  assertError(await api(s, owner.cookie, 'POST', '/api/groups', { name: 'x'.repeat(65), members: [] }), 400, 'BAD_REQUEST', 'long name');
  assertError(await api(s, owner.cookie, 'POST', '/api/groups', { name: 'g', members: [CANARY + ' x'] }), 400, 'BAD_REQUEST', 'bad member name');
  assertError(await api(s, owner.cookie, 'POST', '/api/servers', { name: 'x', ownerId: 'y' }), 400, 'BAD_REQUEST', 'extra field on create server');
});

test('bad query strings and path ids get 400; unknown routes 404 JSON', async (t) => {
  const s = await server(t);
  const owner = await setupOwner(s);
  const general = (await api(s, owner.cookie, 'GET', '/api/conversations')).body.servers[0].channels[0].id;
  for (const q of ['limit=0', 'limit=101', 'limit=abc', 'before=0', 'before=-3', `x=${CANARY}`]) {
    assertError(await api(s, owner.cookie, 'GET', `/api/conversations/${general}/messages?${q}`), 400, 'BAD_REQUEST', q);
  }
  assert.equal((await api(s, owner.cookie, 'GET', `/api/conversations/${general}/messages?limit=100`)).status, 200);
  assertError(await api(s, owner.cookie, 'GET', `/api/conversations/${'a'.repeat(65)}/messages`), 400, 'BAD_REQUEST', 'overlong id');
  assertError(await api(s, owner.cookie, 'GET', `/api/conversations/${CANARY}.x/members`), 400, 'BAD_REQUEST', 'id with a dot');
  assertError(await api(s, owner.cookie, 'DELETE', '/api/me'), 404, 'NOT_FOUND', 'wrong method');
  assertError(await api(s, owner.cookie, 'GET', `/api/${CANARY}`), 404, 'NOT_FOUND', 'unknown API route');
});

test('oversized and non-JSON bodies get 413 BODY_TOO_LARGE and 415', async (t) => {
  const s = await server(t);
  const big = JSON.stringify({ username: 'x'.repeat(70 * 1024) });
  assertError(await api(s, null, 'POST', '/api/auth/params', big), 413, 'BODY_TOO_LARGE', 'a 70 KiB body');
  assertError(await api(s, null, 'POST', '/api/auth/params', `username=${CANARY}`, { contentType: 'application/x-www-form-urlencoded' }), 415, 'BAD_REQUEST', 'a form post');
  assertError(await api(s, null, 'POST', '/api/auth/params', `{"username":"${CANARY}"}`, { contentType: 'text/plain' }), 415, 'BAD_REQUEST', 'a text/plain post');
  assert.equal((await api(s, null, 'GET', '/healthz')).status, 200);
});

test('garbage on the socket gets a 400 and the server keeps serving', async (t) => {
  const s = await server(t);
  const port = new URL(s.url).port;
  const reply = await new Promise<string>((resolve, reject) => {
    const socket = netConnect(Number(port), '127.0.0.1');
    let text = '';
    socket.on('data', (d) => (text += d));
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
    socket.write('NOT HTTP AT ALL\r\n\x00\x01\r\n\r\n');
  });
  assert.match(reply, /^HTTP\/1\.1 400/);
  await setupOwner(s);
  assert.equal((await login(s, 'owner', 'correct horse battery staple')).user.username, 'owner');
});

test('an unexpected failure is a bare 500 INTERNAL, and the process survives it', async (t) => {
  const s = await startTestServer();
  await s.store.close(); // every query now throws inside the route
  t.after(async () => {
    await s.app.close();
    rmSync(s.dir, { recursive: true, force: true });
  });
  const res = await api(s, null, 'GET', '/api/instance');
  assert.equal(res.status, 500);
  assert.deepEqual(res.body, { error: { code: 'INTERNAL', message: 'Something went wrong on the server.' } });
  assert.equal((await api(s, null, 'GET', '/healthz')).status, 200);
});
