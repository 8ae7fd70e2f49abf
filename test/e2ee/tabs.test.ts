// Two tabs of one browser (two E2eeCodecs on one vault and device, Web Locks as a browser has them): each picks up the other's commits from the vault instead of re-processing its own device's commit; both keep sending and nothing forks.
import test from 'node:test';
import assert from 'node:assert/strict';
import { api, registerInvited, setupOwner } from '../helpers/client.ts';
import { openE2eeCodec } from '../../web-client/src/e2ee/groups/index.ts';
import { closeAll, firstDevice, online, read, send, settle, startE2eeServer, texts, transportFor, type Client } from './helpers.ts';

/** A minimal LockManager (one holder per name, FIFO), standing in for the browser's Web Locks. */
function installWebLocks(): () => void {
  const tails = new Map<string, Promise<unknown>>();
  const locks = {
    request(name: string, task: () => Promise<unknown>) {
      const run = (tails.get(name) ?? Promise.resolve()).then(task);
      tails.set(
        name,
        run.catch(() => undefined),
      );
      return run;
    },
  };
  const had = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
  Object.defineProperty(globalThis, 'navigator', { value: { locks }, configurable: true });
  return () => {
    if (had) Object.defineProperty(globalThis, 'navigator', had);
    else delete (globalThis as { navigator?: unknown }).navigator;
  };
}

test('two tabs on one device share the group through the vault', async (t) => {
  t.after(installWebLocks());
  const server = await startE2eeServer();
  t.after(() => server.close());
  const rotation = { maxMessages: 1, maxAgeMs: 864e5 };
  const tab1 = await online(server, await firstDevice(server, await setupOwner(server, 'alice'), { rotation }));
  const bob = await online(server, await firstDevice(server, await registerInvited(server, 'bob')));
  const tab2: Client = await online(server, {
    ...tab1,
    ws: undefined,
    codec: await openE2eeCodec({ userId: tab1.who.user.id, deviceKeys: tab1.keys, transport: transportFor(server, tab1.who.cookie), rotation, reconcileStaggerMs: 20 }),
  });
  t.after(() => closeAll(tab1, tab2, bob));
  assert.equal(tab2.codec.deviceId, tab1.codec.deviceId, 'one device, two tabs');
  const dm = (await api(server, tab1.who.cookie, 'POST', '/api/dms', { username: 'bob' })).body.id as string;

  await send(tab1, dm, 'from tab 1');
  await settle(tab1, tab2, bob);
  await send(tab2, dm, 'from tab 2');
  await settle(tab1, tab2, bob);
  // Both rotate on every message: commits from both tabs, some at the same moment.
  await Promise.all([send(tab1, dm, 'tab 1 again'), send(tab2, dm, 'tab 2 again')]);
  await settle(tab1, tab2, bob);
  await send(bob, dm, 'bob');
  await settle(tab1, tab2, bob);

  const expected = ['from tab 1', 'from tab 2', 'tab 1 again', 'tab 2 again', 'bob'];
  assert.deepEqual(texts(await read(server, bob, dm)).slice(0, 2), expected.slice(0, 2));
  assert.deepEqual(texts(await read(server, bob, dm)).slice(2, 4).sort(), expected.slice(2, 4).sort());
  for (const c of [tab1, tab2]) {
    assert.deepEqual(texts(await read(server, c, dm)).sort(), [...expected].sort());
    assert.deepEqual(c.codec.warnings, [], 'no commit this device could not apply');
    assert.equal(await c.codec.epoch(dm), await bob.codec.epoch(dm));
  }
});
