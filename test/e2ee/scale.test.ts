// E2eeCodec with 20 members (CHATROOM_E2EE_MEMBERS sets another count) in one group against a real server: one add commit brings in everyone else's devices, everyone sends and reads everything; phase timings are reported as test diagnostics.
import test from 'node:test';
import assert from 'node:assert/strict';
import { api, registerInvited, setupOwner } from '../helpers/client.ts';
import { closeAll, firstDevice, online, read, send, settle, startE2eeServer, texts, type Client } from './helpers.ts';

const MEMBERS = Number(process.env.CHATROOM_E2EE_MEMBERS ?? 20);

test(`${MEMBERS} members in one group`, { timeout: 600_000 }, async (t) => {
  const server = await startE2eeServer();
  t.after(() => server.close());
  let at = performance.now();
  const lap = (what: string) => {
    const now = performance.now();
    t.diagnostic(`${what}: ${((now - at) / 1000).toFixed(1)} s`);
    at = now;
  };
  const clients: Client[] = [await online(server, await firstDevice(server, await setupOwner(server, 'm00')))];
  for (let i = 1; i < MEMBERS; i++) clients.push(await online(server, await firstDevice(server, await registerInvited(server, `m${String(i).padStart(2, '0')}`))));
  t.after(() => closeAll(...clients));
  lap(`${MEMBERS} accounts with keys (PBKDF2 sign-up, 21 KeyPackages each)`);

  const names = clients.slice(1).map((c) => c.who.user.username);
  const group = (await api(server, clients[0].who.cookie, 'POST', '/api/groups', { name: 'big', members: names })).body.id as string;
  const headBefore = 0;
  await send(clients[0], group, 'hello everyone');
  await settle(...clients);
  lap(`create the group, one commit adding ${MEMBERS - 1} devices, ${MEMBERS - 1} Welcomes joined`);
  const state = (await api(server, clients[0].who.cookie, 'GET', `/api/mls/groups/${group}`)).body;
  assert.equal(state.headSeq - headBefore, 1, 'the creator’s one commit added everyone');
  for (const c of clients) assert.equal(await c.codec.isJoined(group), true, `${c.who.user.username} joined`);

  for (const c of clients.slice(1)) await send(c, group, `from ${c.who.user.username}`);
  await settle(...clients);
  lap(`${MEMBERS - 1} more messages sent (each sender checks the roster once)`);

  const expected = ['hello everyone', ...names.map((n) => `from ${n}`)];
  for (const c of clients) assert.deepEqual(texts(await read(server, c, group)), expected);
  lap(`every member decodes all ${MEMBERS} messages (${MEMBERS * MEMBERS} decodes)`);
  assert.equal((await api(server, clients[0].who.cookie, 'GET', `/api/mls/groups/${group}`)).body.headSeq, 1, 'no member made a needless commit');
});
