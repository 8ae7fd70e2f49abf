// E2eeCodec paging: a device that was away picks up more Welcomes than one page holds; two devices of one user appending to the epoch-key archive at once both land (409, merge, retry).
import test from 'node:test';
import assert from 'node:assert/strict';
import { api, registerInvited, setupOwner } from '../helpers/client.ts';
import { decodeArchive } from '../../web-client/src/e2ee/backup-format.ts';
import { unwrapArchiveRecord } from '../../web-client/src/crypto/index.ts';
import { Vault } from '../../web-client/src/e2ee/vault.ts';
import { fromUtf8 } from '../../web-client/src/crypto/bytes.ts';
import { barrier, closeAll, firstDevice, online, read, reload, restoredDevice, send, settle, startE2eeServer, texts, traffic } from './helpers.ts';

test('more Welcomes than one page: all joined', async (t) => {
  const server = await startE2eeServer();
  t.after(() => server.close());
  const alice = await online(server, await firstDevice(server, await setupOwner(server, 'alice')));
  let bob = await firstDevice(server, await registerInvited(server, 'bob'));
  // Bob is away while alice opens 18 groups with him (a Welcome page holds 16).
  const groups: string[] = [];
  for (let i = 0; i < 18; i++) {
    const id = (await api(server, alice.who.cookie, 'POST', '/api/groups', { name: `g${i}`, members: ['bob'] })).body.id as string;
    groups.push(id);
    await send(alice, id, `hello ${i}`);
  }
  await settle(alice);
  assert.equal((await api(server, bob.who.cookie, 'GET', '/api/mls/welcomes')).body.hasMore, true);
  bob = await online(server, await reload(server, bob));
  t.after(() => closeAll(alice, bob));
  await settle(alice, bob);
  for (const [i, id] of groups.entries()) assert.deepEqual(texts(await read(server, bob, id)), [`hello ${i}`]);
  assert.equal((await api(server, bob.who.cookie, 'GET', '/api/mls/welcomes')).body.welcomes.length, 0, 'every Welcome acknowledged');
});

test('two devices of one user write the archive at once: both records land', async (t) => {
  const server = await startE2eeServer();
  t.after(() => server.close());
  const rotation = { rotation: { maxMessages: 1, maxAgeMs: 864e5 } };
  const alice = await online(server, await firstDevice(server, await setupOwner(server, 'alice'), rotation));
  const bob = await online(server, await firstDevice(server, await registerInvited(server, 'bob')));
  const dm = (await api(server, alice.who.cookie, 'POST', '/api/dms', { username: 'bob' })).body.id as string;
  await send(alice, dm, 'one');
  const alice2 = await online(server, await restoredDevice(server, alice, alice.recoveryKey!));
  t.after(() => closeAll(alice, alice2, bob));
  await alice.codec.sync(dm);
  await settle(alice, alice2, bob);
  await send(alice, dm, 'two');
  await settle(alice, alice2, bob);
  // Alice rotates before her next message: both her devices reach that epoch and append it at once.
  traffic.beforeArchivePut = barrier(2);
  traffic.archiveStatuses.length = 0;
  await send(alice, dm, 'three');
  await settle(alice, alice2, bob);
  traffic.beforeArchivePut = null;
  await settle(alice, alice2, bob);
  assert.deepEqual([...traffic.archiveStatuses].sort(), [200, 200, 409], 'one write lost the race, merged and retried');
  const epoch = BigInt((await alice.codec.epoch(dm))!);
  const res = await fetch(`${server.url}/api/mls/backup/archive`, { headers: { cookie: alice.who.cookie } });
  const bk = (await (await Vault.open(alice.kv, alice.who.user.id)).read('backup-key'))!;
  const epochs = new Map<bigint, number>();
  for (const blob of decodeArchive(new Uint8Array(await res.arrayBuffer()))) {
    const rec = await unwrapArchiveRecord(bk, blob);
    if (rec.type === 'epoch-keys' && fromUtf8(rec.keys.groupId) === dm) epochs.set(rec.keys.epoch, (epochs.get(rec.keys.epoch) ?? 0) + 1);
  }
  for (let e = 0n; e <= epoch; e++) assert.equal(epochs.get(e), 1, `epoch ${e} archived once`);
  assert.deepEqual(texts(await read(server, alice2, dm)), ['one', 'two', 'three']);
});
