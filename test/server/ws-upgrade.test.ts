// WebSocket upgrade gatekeeping: session required (401), Origin allow-list (403), per-address connection cap (429), sign-out closes sockets (4001).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer } from '../helpers/server.ts';
import { api, connect, createSession, createWorld, refusedUpgrade, type WsClient } from '../helpers/direct.ts';
import { SESSION_COOKIE } from '../../src/server/auth/tokens.ts';

test('an upgrade without a valid session is refused with 401 UNAUTHENTICATED', async (t) => {
  const server = await startTestServer();
  t.after(() => server.close());
  for (const cookie of [null, `${SESSION_COOKIE}=not-a-real-token`]) {
    const refused = await refusedUpgrade(server, cookie);
    assert.equal(refused.status, 401);
    assert.equal(refused.body.error?.code, 'UNAUTHENTICATED');
  }
  const w = await createWorld(server);
  await server.store.deleteSession(w.bob.sessionHash);
  assert.equal((await refusedUpgrade(server, w.bob.cookie)).status, 401, 'a deleted session no longer opens sockets');
});

test('the Origin must be the server’s own, its publicUrl, or an allowed origin (403 BAD_ORIGIN otherwise)', async (t) => {
  const server = await startTestServer({ publicUrl: 'https://chat.example.org:8443/', allowedOrigins: ['https://app.example.net'] });
  t.after(() => server.close());
  const w = await createWorld(server);
  for (const origin of [null, 'https://evil.example', 'null', 'http://chat.example.org:8443', server.origin.replace('http:', 'https:')]) {
    const refused = await refusedUpgrade(server, w.alice.cookie, { origin });
    assert.equal(refused.status, 403, `origin ${origin}`);
    assert.equal(refused.body.error?.code, 'BAD_ORIGIN');
  }
  for (const origin of [server.origin, 'https://chat.example.org:8443', 'https://APP.example.net']) {
    const client = await connect(server, w.alice.cookie, { origin });
    await client.close();
  }
});

test('connections per client address are capped (429 TOO_MANY_CONNECTIONS) and the slot frees on close', async (t) => {
  const server = await startTestServer({ limits: { connectionsPerIp: 2 } });
  t.after(() => server.close());
  const w = await createWorld(server);
  const first = await connect(server, w.alice.cookie);
  const second = await connect(server, w.bob.cookie);
  t.after(() => second.close());
  const refused = await refusedUpgrade(server, w.carol.cookie);
  assert.equal(refused.status, 429);
  assert.equal(refused.body.error?.code, 'TOO_MANY_CONNECTIONS');
  await first.close();
  // The server frees the slot when its side of the TCP connection closes, a moment after ours.
  let third: WsClient | null = null;
  for (let attempt = 0; attempt < 200 && !third; attempt++) {
    third = await connect(server, w.carol.cookie).catch((err: { status?: number }) => {
      if (err.status !== 429) throw err;
      return null;
    });
  }
  assert.ok(third, 'a slot opened up again');
  await third.close();
});

test('signing out closes exactly that session’s sockets with 4001', async (t) => {
  const server = await startTestServer();
  t.after(() => server.close());
  const w = await createWorld(server);
  const other = await createSession(server, w.alice.user.id);
  const mine1 = await connect(server, w.alice.cookie);
  const mine2 = await connect(server, w.alice.cookie);
  const elsewhere = await connect(server, other.cookie);
  t.after(() => elsewhere.close());
  const res = await api(server, w.alice.cookie, 'POST', '/api/auth/logout');
  assert.equal(res.status, 204);
  assert.equal((await mine1.closed).code, 4001);
  assert.equal((await mine2.closed).code, 4001);
  elsewhere.send({ t: 'ping' });
  await elsewhere.nextOf('pong');
  assert.equal((await refusedUpgrade(server, w.alice.cookie)).status, 401);
});

test('server shutdown closes sockets with 1001', async (t) => {
  const server = await startTestServer();
  const w = await createWorld(server);
  const client = await connect(server, w.alice.cookie);
  const closing = server.close();
  t.after(() => closing);
  assert.equal((await client.closed).code, 1001);
  await closing;
});
