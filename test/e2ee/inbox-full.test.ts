// E2eeCodec and a full Welcome inbox (64 waiting for one device): the add commit leaves that device out with a warning and adds the others; once the device has picked its Welcomes up, a later check adds it.
import test from 'node:test';
import assert from 'node:assert/strict';
import { api, registerInvited, setupOwner } from '../helpers/client.ts';
import { MlsLimits } from '../../src/shared/mls-api.ts';
import { closeAll, firstDevice, online, read, send, settle, startE2eeServer, texts } from './helpers.ts';

test('a device with a full Welcome inbox is left out, then added later', { timeout: 300_000 }, async (t) => {
  const server = await startE2eeServer();
  t.after(() => server.close());
  const alice = await online(server, await firstDevice(server, await setupOwner(server, 'alice')));
  // Bob's device exists but is offline: his Welcomes pile up.
  const bob = await firstDevice(server, await registerInvited(server, 'bob'));
  const carol = await online(server, await firstDevice(server, await registerInvited(server, 'carol')));
  t.after(() => closeAll(alice, bob, carol));
  const group = async (name: string) => (await api(server, alice.who.cookie, 'POST', '/api/groups', { name, members: ['bob', 'carol'] })).body.id as string;
  for (let i = 0; i < MlsLimits.welcomesPerDevice; i++) await send(alice, await group(`g${i}`), `hi ${i}`);
  await settle(alice, carol);

  const last = await group('one too many');
  await send(alice, last, 'bob cannot be added yet');
  await settle(alice, carol);
  const w = alice.codec.warnings.find((x) => x.code === 'commit_failed' && x.conv === last);
  assert.ok(w, 'the left-out device is reported');
  const users = async () => [...new Set((await alice.codec.roster(last)).map((m) => m.userId))].sort();
  assert.deepEqual(await users(), [alice.who.user.id, carol.who.user.id].sort(), 'carol was added without bob');
  assert.deepEqual(texts(await read(server, carol, last)), ['bob cannot be added yet']);

  await online(server, bob);
  await settle(alice, bob, carol);
  await alice.codec.sync(last);
  await settle(alice, bob, carol);
  assert.deepEqual(await users(), [alice.who.user.id, bob.who.user.id, carol.who.user.id].sort());
  await send(alice, last, 'now bob too');
  await settle(alice, bob, carol);
  assert.deepEqual(texts(await read(server, bob, last)), ['!unknown_epoch', 'now bob too']);
});
