// E2eeCodec and history: a member added later gets a clear, retryable refusal for earlier messages; a new device restored with the recovery key reads earlier history through the epoch-key archive.
import test from 'node:test';
import assert from 'node:assert/strict';
import { api } from '../helpers/client.ts';
import { KEYS_EVENT } from '../../web-client/src/state/body-codec.ts';
import { decodeArchive } from '../../web-client/src/e2ee/backup-format.ts';
import { aliceBobCarol, closeAll, online, read, restoredDevice, send, settle, startE2eeServer, texts } from './helpers.ts';

test('history: later members see why, restored devices read it through the archive', async (t) => {
  const server = await startE2eeServer();
  t.after(() => server.close());
  const [alice, bob, carol] = await aliceBobCarol(t, server);
  const group = (await api(server, alice.who.cookie, 'POST', '/api/groups', { name: 'g', members: ['bob'] })).body.id as string;
  await send(alice, group, 'early 1');
  await send(bob, group, 'early 2');
  await settle(alice, bob, carol);

  await t.test('a member added later: earlier messages are refused with a reason, later ones open', async () => {
    await api(server, alice.who.cookie, 'POST', `/api/groups/${group}/members`, { username: 'carol' });
    await settle(alice, bob, carol);
    await send(alice, group, 'after carol joined');
    await settle(alice, bob, carol);
    const seen = await read(server, carol, group);
    assert.deepEqual(texts(seen), ['!unknown_epoch', '!unknown_epoch', 'after carol joined']);
    const refused = seen[0];
    assert.ok(!refused.ok);
    assert.equal(refused.retryable, true);
    assert.equal(refused.reason, 'Sent before this device joined, and no key backup covers it yet.');
  });

  await t.test('the archive on the server holds one wrapped record per epoch, nothing readable', async () => {
    const res = await fetch(`${server.url}/api/mls/backup/archive`, { headers: { cookie: alice.who.cookie } });
    const records = decodeArchive(new Uint8Array(await res.arrayBuffer()));
    const epoch = await alice.codec.epoch(group);
    // Alice's device reached epochs 0..current of the group, plus those of the general channel if any.
    assert.ok(records.length >= epoch! + 1, `${records.length} records for ${epoch! + 1} epochs`);
  });

  await t.test('alice restores a new browser with the recovery key and reads everything', async () => {
    const second = await online(server, await restoredDevice(server, alice, alice.recoveryKey!));
    t.after(() => closeAll(second));
    const keys = new Promise<void>((resolve) => second.codec.addEventListener(KEYS_EVENT, () => resolve(), { once: true }));
    // Any member's engine adds the new device (here bob's, checking the roster).
    await bob.codec.sync(group);
    await keys;
    await settle(alice, bob, carol, second);
    assert.deepEqual(texts(await read(server, second, group)), ['early 1', 'early 2', 'after carol joined']);
    await send(second, group, 'from the new browser');
    await settle(alice, bob, carol, second);
    for (const c of [alice, bob, carol]) assert.equal(texts(await read(server, c, group)).at(-1), 'from the new browser');
  });

  await t.test('a restored device without a backup entry for an epoch says so and stays retryable', async () => {
    // Carol restores too: her archive has only the epochs since she joined, so the early ones stay refused.
    const carol2 = await online(server, await restoredDevice(server, carol, carol.recoveryKey!));
    t.after(() => closeAll(carol2));
    await alice.codec.sync(group);
    await settle(alice, bob, carol, carol2);
    assert.deepEqual(texts(await read(server, carol2, group)), ['!unknown_epoch', '!unknown_epoch', 'after carol joined', 'from the new browser']);
  });
});
