// The conversation engine's first slice: two Node clients exchange end-to-end encrypted messages in a DM through E2eeCodec against a real server.
import test from 'node:test';
import assert from 'node:assert/strict';
import { api, registerInvited, setupOwner } from '../helpers/client.ts';
import { KEYS_EVENT, SendRefused } from '../../web-client/src/state/body-codec.ts';
import { Vault } from '../../web-client/src/e2ee/vault.ts';
import { closeAll, firstDevice, online, read, send, settle, startE2eeServer, texts } from './helpers.ts';

test('a DM round-trips through the codec, and the server holds only envelopes', async (t) => {
  const server = await startE2eeServer();
  t.after(() => server.close());
  const alice = await online(server, await firstDevice(server, await setupOwner(server, 'alice')));
  const bob = await online(server, await firstDevice(server, await registerInvited(server, 'bob')));
  t.after(() => closeAll(alice, bob));
  const dm = (await api(server, alice.who.cookie, 'POST', '/api/dms', { username: 'bob' })).body.id as string;

  const bobGotKeys = new Promise<void>((resolve) => bob.codec.addEventListener(KEYS_EVENT, () => resolve(), { once: true }));
  const seq1 = await send(alice, dm, 'hello bob, canary-7f3a');
  await bobGotKeys;
  await settle(alice, bob);
  assert.deepEqual(texts(await read(server, bob, dm)), ['hello bob, canary-7f3a']);

  await send(bob, dm, 'hi alice');
  await settle(alice, bob);
  const seen = await read(server, alice, dm);
  assert.deepEqual(texts(seen), ['hello bob, canary-7f3a', 'hi alice']);
  assert.ok(seen.every((d) => d.ok && /^[0-9a-f]{32}$/.test(d.id ?? '')), 'each message has its envelope id');
  // The same seq decoded again (history reloaded) is the same message, not a duplicate.
  const again = await alice.codec.decode(dm, { seq: seq1, sender: alice.who.user.id, body: (await api(server, alice.who.cookie, 'GET', `/api/conversations/${dm}/messages`)).body.messages[0].body });
  assert.equal(again.ok, true);

  // The engine's records are sealed like every vault record, and forgetting the keys deletes them all.
  const slots = [...bob.kv.map.keys()].filter((k) => k.startsWith(`${bob.who.user.id}/`));
  assert.ok(slots.some((k) => k.includes('/group/')) && slots.some((k) => k.includes('/epoch/')) && slots.some((k) => k.endsWith('/pins')));
  for (const k of slots) {
    const v = bob.kv.map.get(k) as { ct?: Uint8Array };
    if (v instanceof CryptoKey || (v as { key?: unknown }).key) continue;
    assert.ok(v.ct instanceof Uint8Array, `${k} is sealed`);
    assert.ok(!Buffer.from(v.ct).includes(Buffer.from('canary-7f3a')), `${k} holds no plaintext`);
  }
  bob.codec.close();
  await (await Vault.open(bob.kv, bob.who.user.id)).destroy();
  assert.deepEqual([...bob.kv.map.keys()].filter((k) => k.startsWith(`${bob.who.user.id}/`)), []);
});

test('a device not yet added is told to wait, then KEYS_EVENT fires when its Welcome arrives', async (t) => {
  const server = await startE2eeServer();
  t.after(() => server.close());
  const alice = await online(server, await firstDevice(server, await setupOwner(server, 'alice')));
  const bobAccount = await registerInvited(server, 'bob');
  const dm = (await api(server, alice.who.cookie, 'POST', '/api/dms', { username: 'bob' })).body.id as string;
  // Bob has no device yet: Alice's group holds only her.
  await send(alice, dm, 'before bob had keys');
  const bob = await online(server, await firstDevice(server, bobAccount));
  t.after(() => closeAll(alice, bob));
  await settle(bob);
  await assert.rejects(bob.codec.encode(dm, { kind: 'text', text: 'too early' }), (err: unknown) => {
    assert.ok(err instanceof SendRefused);
    assert.equal(err.code, 'waiting_for_keys');
    assert.equal(err.waiting, true);
    assert.match(err.message, /Waiting for another member to add this device/);
    return true;
  });
  const [early] = await read(server, bob, dm);
  assert.equal(early.ok, false);
  assert.equal(!early.ok && early.code, 'waiting_for_keys');
  assert.equal(!early.ok && early.retryable, true);

  const keys = new Promise<void>((resolve) => bob.codec.addEventListener(KEYS_EVENT, () => resolve(), { once: true }));
  await alice.codec.sync(dm);
  await keys;
  await settle(alice, bob);
  // Sent in an epoch before Bob joined, and Bob has no archive of Alice's keys: a clear, retryable refusal.
  const [before] = await read(server, bob, dm);
  assert.equal(!before.ok && before.code, 'unknown_epoch');
  assert.equal(!before.ok && before.retryable, true);
  assert.match(!before.ok ? before.reason : '', /before this device joined/);
  await send(bob, dm, 'now I can');
  await settle(alice, bob);
  assert.deepEqual(texts(await read(server, alice, dm)), ['before bob had keys', 'now I can']);
});
