// WebSocket input limits: malformed/binary/off-schema frames (BAD_FRAME, socket stays usable), oversized frames (1009), body size, rate limit (RATE_LIMITED then 4008), slow reader (4009).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout } from 'node:timers/promises';
import { startTestServer } from '../helpers/server.ts';
import { b64, connect, createWorld } from '../helpers/direct.ts';

test('malformed JSON, binary frames and frames off the schema get BAD_FRAME and the socket keeps working', async (t) => {
  const server = await startTestServer();
  t.after(() => server.close());
  const w = await createWorld(server);
  const client = await connect(server, w.alice.cookie);
  t.after(() => client.close());
  const bad: Array<string | Buffer> = [
    '{not json',
    '',
    'null',
    '[]',
    '"sub"',
    Buffer.from([1, 2, 3]),
    JSON.stringify({ t: 'nope' }),
    JSON.stringify({ t: 'sub' }),
    JSON.stringify({ t: 'sub', conv: w.general, extra: 1 }),
    JSON.stringify({ t: 'sub', conv: 'has space' }),
    JSON.stringify({ t: 'sub', conv: w.general, since: -1 }),
    JSON.stringify({ t: 'send', ref: 'r1', conv: w.general, body: 'not*base64' }),
    JSON.stringify({ t: 'read', conv: w.general, seq: 1.5 }),
  ];
  for (const frame of bad) {
    client.ws.send(frame);
    const error = await client.nextOf('error');
    assert.equal(error.code, 'BAD_FRAME', `for ${String(frame)}`);
  }
  const [lastError] = client.all.filter((f) => f.t === 'error').slice(-2, -1);
  assert.equal(lastError.t === 'error' && lastError.ref, 'r1', 'a readable ref is echoed so the client can match it');
  client.send({ t: 'ping' });
  await client.nextOf('pong');
  await client.subscribe(w.general);
  client.send({ t: 'send', ref: 'ok', conv: w.general, body: b64('still here') });
  assert.equal((await client.nextOf('ack')).seq, 1);
});

test('a frame over maxFrameBytes closes the socket with 1009', async (t) => {
  const server = await startTestServer({ limits: { maxFrameBytes: 4096 } });
  t.after(() => server.close());
  const w = await createWorld(server);
  const client = await connect(server, w.alice.cookie);
  client.send({ t: 'send', ref: 'big', conv: w.general, body: 'A'.repeat(5000) });
  assert.equal((await client.closed).code, 1009);
});

test('a body that decodes past maxBodyBytes gets BODY_TOO_LARGE with its ref, and nothing is stored', async (t) => {
  const server = await startTestServer({ limits: { maxBodyBytes: 256 } });
  t.after(() => server.close());
  const w = await createWorld(server);
  const client = await connect(server, w.alice.cookie);
  t.after(() => client.close());
  client.send({ t: 'send', ref: 'fits', conv: w.general, body: Buffer.alloc(256, 7).toString('base64') });
  assert.equal((await client.nextOf('ack')).ref, 'fits');
  client.send({ t: 'send', ref: 'big', conv: w.general, body: Buffer.alloc(257, 7).toString('base64') });
  const error = await client.nextOf('error');
  assert.deepEqual({ code: error.code, ref: error.ref }, { code: 'BODY_TOO_LARGE', ref: 'big' });
  assert.equal((await server.store.messagesAfter(w.general, 0, 10)).length, 1);
});

test('frames past the rate get RATE_LIMITED; a sustained flood is closed with 4008', async (t) => {
  const server = await startTestServer({ limits: { messagesPerSecond: 5 } });
  t.after(() => server.close());
  const w = await createWorld(server);
  const client = await connect(server, w.alice.cookie);
  for (let i = 0; i < 40; i++) client.send({ t: 'ping' });
  const closed = await client.closed;
  assert.equal(closed.code, 4008);
  const pongs = client.all.filter((f) => f.t === 'pong').length;
  const limited = client.all.filter((f) => f.t === 'error' && f.code === 'RATE_LIMITED').length;
  assert.ok(pongs >= 10 && pongs < 15, `the burst (2 × 5) is served: ${pongs}`);
  assert.ok(limited >= 5, `excess frames were told RATE_LIMITED first: ${limited}`);
});

test('a moderate excess is refused with RATE_LIMITED and the socket recovers', async (t) => {
  const server = await startTestServer({ limits: { messagesPerSecond: 5 } });
  t.after(() => server.close());
  const w = await createWorld(server);
  const client = await connect(server, w.alice.cookie);
  t.after(() => client.close());
  for (let i = 0; i < 12; i++) client.send({ t: 'ping' });
  await client.next((f) => f.t === 'error' && f.code === 'RATE_LIMITED');
  // The bucket refills with time (5 tokens/s), so here the clock itself is what the test waits for.
  await setTimeout(1000);
  client.queue.length = 0;
  client.send({ t: 'ping' });
  const reply = await client.next((f) => f.t === 'pong' || (f.t === 'error' && f.code === 'RATE_LIMITED'));
  const served = reply.t === 'pong';
  assert.ok(served, 'pings are served again once the bucket refills');
});

test('a reader that stops reading is closed with 4009 once its send buffer passes the cap', async (t) => {
  const server = await startTestServer({ limits: { maxBufferedBytes: 65536, messagesPerSecond: 10_000 } });
  t.after(() => server.close());
  const w = await createWorld(server);
  const sender = await connect(server, w.alice.cookie);
  t.after(() => sender.close());
  const reader = await connect(server, w.bob.cookie);
  await sender.subscribe(w.general);
  await reader.subscribe(w.general);
  (reader.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();

  const body = Buffer.alloc(60_000, 1).toString('base64');
  // The server's own view: the reader's last socket left the hub (presence is batched and is not what this tests).
  const readerDropped = (): boolean => !server.app.deps.hub.isOnline(w.bob.user.id);
  let sent = 0;
  // Kernel socket buffers absorb several MB first; 2000 × 60 KB is far beyond them.
  while (!readerDropped() && sent < 2000) {
    sender.send({ t: 'send', ref: `s${sent}`, conv: w.general, body });
    await sender.nextOf('ack', (a) => a.ref === `s${sent}`, 10_000);
    sent++;
  }
  assert.ok(readerDropped(), `the server dropped the slow reader (after ${sent} messages)`);
  // The other users are told bob went offline, like after a normal close.
  await sender.next((f) => f.t === 'presence' && f.user === w.bob.user.id && !f.online, 3000);
  (reader.ws as unknown as { _socket: { resume(): void } })._socket.resume();
  assert.equal((await reader.closed).code, 4009);
});

test('replaying a history far larger than the send-buffer cap waits for the reader instead of closing it', async (t) => {
  const server = await startTestServer({ limits: { maxBufferedBytes: 65536 } });
  t.after(() => server.close());
  const w = await createWorld(server);
  const body = Buffer.alloc(60_000, 2);
  // 150 × 80 KB frames = 12 MB: more than loopback socket buffers absorb, 180× the cap.
  for (let i = 0; i < 150; i++) await server.store.appendMessage({ convId: w.general, senderId: w.bob.user.id, ts: i, body });
  const client = await connect(server, w.alice.cookie);
  t.after(() => client.close());
  const { messages, head } = await client.subscribe(w.general, undefined, 30_000);
  assert.equal(head, 150);
  assert.equal(messages.length, 150);
  assert.equal(Buffer.from(messages[149].body, 'base64').length, 60_000);
});
