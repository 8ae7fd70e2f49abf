// In-memory MLS groups through our wrapper (no server): 3 and 50 members, add/remove/re-add, catch-up, concurrent commits, state persistence.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MlsGroup, conversationGroupId, type EpochKeys } from '../../web-client/src/crypto/mls.ts';
import { openEnvelope, ReplayWindow, sealEnvelope } from '../../web-client/src/crypto/envelope.ts';
import { freshKeyPackage, hex, makeClient, type Client } from './mls-helpers.ts';

async function keysOf(c: Client): Promise<EpochKeys> {
  return c.group!.epochKeys();
}

async function send(from: Client, text: string) {
  return sealEnvelope({ keys: await keysOf(from), sender: from.device, channel: '', content: { kind: 'text', text }, pins: from.pins });
}

async function read(to: Client, envelope: Uint8Array, replay = new ReplayWindow()) {
  const keys = await keysOf(to);
  return openEnvelope({ envelope, groupId: to.group!.groupId, channel: '', keysFor: (e) => (e === keys.epoch ? keys : undefined), replay });
}

/** Applies a commit made by `author` to every other client in `others` (in log order). */
async function broadcast(commit: Uint8Array, others: Client[]) {
  for (const c of others) c.group = (await c.group!.process(commit)).group;
}

test('three members: create, add two in one commit, exchange envelopes, remove one who then cannot read', async () => {
  const [alice, bob, carol] = await Promise.all(['alice', 'bob', 'carol'].map((u) => makeClient(u)));
  alice.group = await MlsGroup.create(alice.device, conversationGroupId('conv-3'), alice.pins);
  assert.equal(alice.group.epoch, 0n);
  const add = await alice.group.add([
    { userId: 'bob', keyPackage: bob.keyPackages[0].keyPackage },
    { userId: 'carol', keyPackage: carol.keyPackages[0].keyPackage },
  ]);
  assert.ok(add.welcome);
  alice.group = add.accept();
  for (const c of [bob, carol]) {
    const joined = await MlsGroup.join(c.device, add.welcome!, c.keyPackages, c.pins);
    assert.equal(hex(joined.usedRef), hex(c.keyPackages[0].ref));
    c.group = joined.group;
  }
  const secrets = await Promise.all([alice, bob, carol].map(async (c) => hex((await keysOf(c)).contentSecret)));
  assert.equal(new Set(secrets).size, 1, 'everyone derives the same epoch content secret');
  assert.deepEqual(bob.group!.members().map((m) => m.userId).sort(), ['alice', 'bob', 'carol']);

  const hello = await send(bob, 'hello from bob');
  for (const c of [alice, carol]) {
    const m = await read(c, hello.envelope);
    assert.deepEqual(m.content, { kind: 'text', text: 'hello from bob' });
    assert.equal(m.sender.userId, 'bob');
  }

  const carolEpoch1Keys = keysOf(carol);
  const removal = await alice.group.remove({ userIds: ['carol'] });
  alice.group = removal.accept();
  const bobSees = await bob.group!.process(removal.commit);
  bob.group = bobSees.group;
  assert.deepEqual(bobSees.removed.map((m) => m.userId), ['carol']);
  const carolSees = await carol.group!.process(removal.commit);
  assert.equal(carolSees.removedSelf, true);
  assert.equal(carolSees.group.active, false);
  const carolOldKeys = await carol.group!.epochKeys().catch(() => undefined);
  assert.equal(carolOldKeys, undefined, 'the superseded state refuses to be used');

  const secret = await send(alice, 'after carol left');
  assert.equal((await read(bob, secret.envelope)).content.kind, 'text');
  // Carol holds only epoch-1 keys: the epoch-2 envelope is unreadable, even with her keys forced in.
  await assert.rejects(
    openEnvelope({ envelope: secret.envelope, groupId: conversationGroupId('conv-3'), channel: '', keysFor: () => undefined, replay: new ReplayWindow() }),
    { code: 'unknown_epoch' },
  );
  const carolKeys = await carolEpoch1Keys;
  await assert.rejects(
    openEnvelope({ envelope: secret.envelope, groupId: conversationGroupId('conv-3'), channel: '', keysFor: () => ({ ...carolKeys, epoch: 2n }), replay: new ReplayWindow() }),
    { code: 'decrypt_failed' },
  );
  await assert.rejects(carolSees.group.selfUpdate(), { code: 'mls_rejected' }, 'a removed member cannot commit');

  // Re-add carol with a fresh KeyPackage: she reads what is sent from then on.
  const readd = await alice.group.add([{ userId: 'carol', keyPackage: await freshKeyPackage(carol) }]);
  alice.group = readd.accept();
  await broadcast(readd.commit, [bob]);
  carol.group = (await MlsGroup.join(carol.device, readd.welcome!, carol.keyPackages, carol.pins)).group;
  const back = await send(bob, 'welcome back');
  assert.equal(((await read(carol, back.envelope)).content as { text: string }).text, 'welcome back');
});

test('fifty members: batched adds, removals and re-adds converge on one epoch secret', async () => {
  const clients = await Promise.all(Array.from({ length: 50 }, (_, i) => makeClient(`user${i}`)));
  const [owner, ...rest] = clients;
  owner.group = await MlsGroup.create(owner.device, conversationGroupId('conv-50'), owner.pins);
  // One commit adds 49 (one Welcome); the joiners validate the whole tree.
  const c = await owner.group.add(rest.map((b) => ({ userId: b.userId, keyPackage: b.keyPackages[0].keyPackage })));
  owner.group = c.accept();
  for (const b of rest) b.group = (await MlsGroup.join(b.device, c.welcome!, b.keyPackages, b.pins)).group;
  const members: Client[] = clients;
  assert.equal(owner.group.members().length, 50);
  // A non-owner removes five users; everyone left processes it.
  const remover = members[7];
  const gone = members.slice(20, 25);
  const rm = await remover.group!.remove({ userIds: gone.map((g) => g.userId) });
  remover.group = rm.accept();
  const stay = members.filter((m) => m !== remover && !gone.includes(m));
  await broadcast(rm.commit, stay);
  for (const g of gone) assert.equal((await g.group!.process(rm.commit)).removedSelf, true);
  // Re-add two of them.
  const readd = await members[3].group!.add(await Promise.all(gone.slice(0, 2).map(async (g) => ({ userId: g.userId, keyPackage: await freshKeyPackage(g) }))));
  members[3].group = readd.accept();
  await broadcast(readd.commit, stay.filter((m) => m !== members[3]).concat(remover));
  for (const g of gone.slice(0, 2)) g.group = (await MlsGroup.join(g.device, readd.welcome!, g.keyPackages, g.pins)).group;
  const active = [...stay, remover, ...gone.slice(0, 2)];
  assert.equal(active.length, 47);
  const secrets = new Set(await Promise.all(active.map(async (c) => hex((await keysOf(c)).contentSecret))));
  assert.equal(secrets.size, 1);
  assert.equal(owner.group.members().length, 47);
  const env = await send(gone[0], 'back in');
  assert.equal((await read(members[40], env.envelope)).sender.userId, gone[0].userId);
});

test('an offline member catches up across many epochs by processing the log in order', async () => {
  const [alice, bob, dave] = await Promise.all(['alice', 'bob', 'dave'].map((u) => makeClient(u)));
  alice.group = await MlsGroup.create(alice.device, conversationGroupId('conv-log'), alice.pins);
  const c0 = await alice.group.add([{ userId: 'bob', keyPackage: bob.keyPackages[0].keyPackage }]);
  alice.group = c0.accept();
  bob.group = (await MlsGroup.join(bob.device, c0.welcome!, bob.keyPackages, bob.pins)).group;
  const log: Uint8Array[] = [];
  for (let i = 0; i < 12; i++) {
    const author = i % 2 ? alice : bob;
    const other = author === alice ? bob : alice;
    const c = i === 5 ? await author.group!.add([{ userId: 'dave', keyPackage: dave.keyPackages[0].keyPackage }]) : await author.group!.selfUpdate();
    author.group = c.accept();
    if (c.welcome) dave.group = (await MlsGroup.join(dave.device, c.welcome, dave.keyPackages, dave.pins)).group;
    other.group = (await other.group!.process(c.commit)).group;
    log.push(c.commit);
  }
  const lateBob = await makeClient('bob2');
  const c = await alice.group.add([{ userId: 'bob2', keyPackage: lateBob.keyPackages[0].keyPackage }]);
  alice.group = c.accept();
  // Dave joined at epoch 7 and was offline since: he processes commits 7..12 in order.
  let daveGroup = dave.group!;
  assert.equal(daveGroup.epoch, 7n);
  await assert.rejects(daveGroup.process(log[10]), (e: any) => e.code === 'mls_rejected' && e.details.reason === 'future_epoch');
  for (const commit of log.slice(6)) daveGroup = (await daveGroup.process(commit)).group;
  await assert.rejects(daveGroup.process(log[3]), (e: any) => e.code === 'mls_rejected' && e.details.reason === 'stale_epoch');
  assert.equal(daveGroup.epoch, 13n);
  daveGroup = (await daveGroup.process(c.commit)).group;
  assert.equal(hex((await daveGroup.epochKeys()).contentSecret), hex((await alice.group.epochKeys()).contentSecret));
});

test('concurrent commits: the delivery service keeps one; the loser processes it and retries on the new epoch', async () => {
  const [alice, bob, carol] = await Promise.all(['alice', 'bob', 'carol'].map((u) => makeClient(u)));
  alice.group = await MlsGroup.create(alice.device, conversationGroupId('conv-race'), alice.pins);
  const c0 = await alice.group.add([{ userId: 'bob', keyPackage: bob.keyPackages[0].keyPackage }]);
  alice.group = c0.accept();
  bob.group = (await MlsGroup.join(bob.device, c0.welcome!, bob.keyPackages, bob.pins)).group;
  const fromAlice = await alice.group.selfUpdate();
  const fromBob = await bob.group.add([{ userId: 'carol', keyPackage: carol.keyPackages[0].keyPackage }]);
  // The server accepted alice's commit; bob's got a 409 with the winner.
  alice.group = fromAlice.accept();
  bob.group = (await bob.group.process(fromAlice.commit)).group;
  const retry = await bob.group.add([{ userId: 'carol', keyPackage: carol.keyPackages[1].keyPackage }]);
  bob.group = retry.accept();
  alice.group = (await alice.group.process(retry.commit)).group;
  carol.group = (await MlsGroup.join(carol.device, retry.welcome!, carol.keyPackages, carol.pins)).group;
  void fromBob;
  const secrets = new Set(await Promise.all([alice, bob, carol].map(async (c) => hex((await keysOf(c)).contentSecret))));
  assert.equal(secrets.size, 1, 'no fork');
  assert.equal(alice.group.epoch, 3n);
});

test('group state survives encode/load and keeps working; exporter agrees across members', async () => {
  const [alice, bob] = await Promise.all(['alice', 'bob'].map((u) => makeClient(u)));
  alice.group = await MlsGroup.create(alice.device, conversationGroupId('conv-store'), alice.pins);
  const c0 = await alice.group.add([{ userId: 'bob', keyPackage: bob.keyPackages[2].keyPackage }]);
  alice.group = c0.accept();
  const joined = await MlsGroup.join(bob.device, c0.welcome!, bob.keyPackages, bob.pins);
  assert.equal(bob.keyPackages[2].lastResort, true, 'joined with the last-resort package');
  bob.group = joined.group;
  const stored = alice.group.encode();
  const restored = await MlsGroup.load(alice.device, stored, alice.pins);
  const up = await restored.selfUpdate();
  const next = up.accept();
  bob.group = (await bob.group.process(up.commit)).group;
  const ctx = new TextEncoder().encode('call-1');
  assert.equal(hex(await next.exportSecret('chatroom v1 sframe', ctx, 32)), hex(await bob.group.exportSecret('chatroom v1 sframe', ctx, 32)));
  await assert.rejects(MlsGroup.load(alice.device, new Uint8Array([1, 2, 3]), alice.pins), { code: 'malformed' });
  await assert.rejects(MlsGroup.load(alice.device, new Uint8Array([9]), alice.pins), { code: 'unsupported_version' });
});
