// E2eeCodec with three members in a group chat, a DM and a server channel against a real server: every message round-trips, and the data dir holds no plaintext (database, -wal, any file).
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { api } from '../helpers/client.ts';
import { aliceBobCarol, read, send, settle, startE2eeServer, texts } from './helpers.ts';
import { filePaths } from '../helpers/files.ts';


test('group chat, DM and server channel: round trips, and only envelopes on disk', async (t) => {
  const server = await startE2eeServer();
  t.after(() => server.close());
  const all = await aliceBobCarol(t, server);
  const [alice, bob, carol] = all;

  const group = (await api(server, alice.who.cookie, 'POST', '/api/groups', { name: 'trio', members: ['bob', 'carol'] })).body.id as string;
  const dm = (await api(server, bob.who.cookie, 'POST', '/api/dms', { username: 'carol' })).body.id as string;
  const list = (await api(server, alice.who.cookie, 'GET', '/api/conversations')).body;
  const channel = list.servers[0].channels[0].id as string;
  const canaries: string[] = [];
  const say = async (c: (typeof all)[number], conv: string, label: string) => {
    const text = `canary-${label}-${Math.random().toString(36).slice(2, 10)}`;
    canaries.push(text);
    await send(c, conv, text);
    await settle(...all);
    return text;
  };

  const g1 = await say(alice, group, 'group-alice');
  const g2 = await say(bob, group, 'group-bob');
  const g3 = await say(carol, group, 'group-carol');
  for (const c of all) assert.deepEqual(texts(await read(server, c, group)), [g1, g2, g3], `${c.who.user.username} reads the group`);

  const d1 = await say(bob, dm, 'dm-bob');
  const d2 = await say(carol, dm, 'dm-carol');
  for (const c of [bob, carol]) assert.deepEqual(texts(await read(server, c, dm)), [d1, d2]);

  const c1 = await say(carol, channel, 'channel-carol');
  const c2 = await say(alice, channel, 'channel-alice');
  const c3 = await say(bob, channel, 'channel-bob');
  for (const c of all) assert.deepEqual(texts(await read(server, c, channel)), [c1, c2, c3], `${c.who.user.username} reads the channel`);

  // Each decoded message names the device that signed it, and that device is its sender's.
  const decoded = await read(server, alice, group);
  assert.equal(decoded[1].ok && decoded[1].deviceId, bob.codec.deviceId);

  // Checkpoint-free: whatever SQLite holds right now, in the database and its -wal.
  const files = filePaths(server.dir);
  assert.ok(files.some((f) => f.endsWith('-wal')), 'the WAL is part of what is checked');
  for (const f of files) {
    const bytes = readFileSync(f);
    for (const text of canaries) assert.ok(!bytes.includes(Buffer.from(text)), `${text} is not in ${f}`);
  }
  // What the server stores is an envelope: version 1, the conversation id as group id.
  const stored = (await api(server, alice.who.cookie, 'GET', `/api/conversations/${group}/messages`)).body.messages;
  for (const m of stored) {
    const bytes = Buffer.from(m.body, 'base64');
    assert.equal(bytes[0], 1);
    assert.equal(bytes.subarray(2, 2 + bytes[1]).toString(), group);
  }
});
