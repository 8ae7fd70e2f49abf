// MLS commit framing check (RFC 9420 §6 header only): the parser's refusals and bounds, 400 MLS_BAD_COMMIT over HTTP, and real commits and a Welcome from the client crypto layer (ts-mls) accepted by the real server and joined from.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api } from '../helpers/client.ts';
import { commitFramingProblem } from '../../src/server/mls/framing.ts';
import { conversationGroupId, MlsGroup } from '../../web-client/src/crypto/mls.ts';
import { makeClient } from '../crypto/mls-helpers.ts';
import { b64u, fakeCommitBytes, people, registerDevice, startMlsServer } from './mls-helpers.ts';

const CONV = 'conv-0123456789abcdefgh';
const group = new TextEncoder().encode(CONV);

/** A PublicMessage header: mls10, wire format 1, group id, epoch, sender, empty authenticated_data, content type. */
function publicHeader(opts: { epoch?: number; sender?: number[]; contentType?: number; groupId?: Uint8Array } = {}): Uint8Array {
  const g = opts.groupId ?? group;
  const epoch = Buffer.alloc(8);
  epoch.writeBigUInt64BE(BigInt(opts.epoch ?? 7));
  return new Uint8Array(Buffer.concat([Buffer.from([0, 1, 0, 1, g.length]), g, epoch, Buffer.from(opts.sender ?? [1, 0, 0, 0, 2]), Buffer.from([0, opts.contentType ?? 3]), Buffer.from('rest')]));
}

test('framing: accepts a PrivateMessage or PublicMessage commit header for the group and epoch; names what is wrong otherwise', () => {
  assert.equal(commitFramingProblem(fakeCommitBytes(CONV, 7, 'x'), group, 7), null);
  assert.equal(commitFramingProblem(publicHeader(), group, 7), null);
  for (const sender of [[2, 0, 0, 0, 0], [3], [4]]) assert.equal(commitFramingProblem(publicHeader({ sender }), group, 7), null, `sender ${sender[0]}`);
  const good = fakeCommitBytes(CONV, 7, 'x');
  const cases: Array<[Uint8Array, string]> = [
    [new Uint8Array(0), 'truncated'],
    [new TextEncoder().encode('just some bytes, not MLS'), 'version'],
    [Uint8Array.from([0, 1, 0, 3, ...good.subarray(4)]), 'wire_format'], // mls_welcome
    [Uint8Array.from([0, 1, 0, 5, ...good.subarray(4)]), 'wire_format'], // mls_key_package
    [Uint8Array.from([0, 2, ...good.subarray(2)]), 'version'],
    [fakeCommitBytes('another-conversation-id', 7, 'x'), 'group_id'],
    [fakeCommitBytes(CONV, 8, 'x'), 'epoch'],
    [publicHeader({ contentType: 1 }), 'content_type'], // application
    [publicHeader({ contentType: 2 }), 'content_type'], // proposal
    [publicHeader({ sender: [9] }), 'sender'],
    [Uint8Array.from([0, 1, 0, 2, 0xc0, 0, 0, 0, 0, 0, 0, 0x17]), 'truncated'], // 8-byte length: not in MLS
    [Uint8Array.from([0, 1, 0, 2, 0x40, group.length, ...group]), 'truncated'], // non-minimal length
    [Uint8Array.from([0, 1, 0, 2, 0x80, 0xff, 0xff, 0xff, 1, 2]), 'truncated'], // a length past the end
  ];
  for (const [bytes, problem] of cases) assert.equal(commitFramingProblem(bytes, group, 7), problem, `${Buffer.from(bytes.subarray(0, 8)).toString('hex')} → ${problem}`);
  // Every prefix of a valid header is refused as truncated, never read past the end.
  const headerLength = 4 + 1 + group.length + 8 + 1;
  for (let n = 0; n < headerLength; n++) assert.equal(commitFramingProblem(good.subarray(0, n), group, 7), 'truncated', `prefix ${n}`);
});

test('HTTP: a commit that is not an MLS commit for this group and epoch is 400 MLS_BAD_COMMIT, and nothing is stored', async (t) => {
  const s = await startMlsServer();
  t.after(() => s.close());
  const [alice, bob] = await people(s, 'bob');
  await registerDevice(s, alice);
  const bobDevice = await registerDevice(s, bob);
  const conv: string = (await api(s, alice.cookie, 'POST', '/api/dms', { username: 'bob' })).body.id;
  const other: string = (await api(s, alice.cookie, 'POST', '/api/groups', { name: 'other', members: [] })).body.id;
  await api(s, alice.cookie, 'POST', `/api/mls/groups/${conv}`);
  const bad: Array<[Uint8Array, string]> = [
    [new TextEncoder().encode('commit-0'), 'version'],
    [fakeCommitBytes(other, 0, 'for another group'), 'group_id'],
    [fakeCommitBytes(conv, 1, 'wrong epoch'), 'epoch'],
    [Uint8Array.from([0, 1, 0, 3, ...fakeCommitBytes(conv, 0, 'w').subarray(4)]), 'wire_format'],
  ];
  for (const [bytes, reason] of bad) {
    const res = await api(s, alice.cookie, 'POST', `/api/mls/groups/${conv}/commits`, { epoch: 0, commit: b64u(bytes), welcome: { bytes: b64u('w'), devices: [bobDevice.id] } });
    assert.equal(res.status, 400, reason);
    assert.equal(res.body.error.code, 'MLS_BAD_COMMIT');
    assert.equal(res.body.error.reason, reason);
  }
  assert.equal((await api(s, alice.cookie, 'GET', `/api/mls/groups/${conv}`)).body.epoch, 0);
  assert.deepEqual((await api(s, bob.cookie, 'GET', '/api/mls/welcomes')).body.welcomes, [], 'no Welcome stored either');
});

test('real ts-mls commits from web-client/src/crypto pass the check: add with a Welcome, join, self-update, catch up from the log', async (t) => {
  const s = await startMlsServer();
  t.after(() => s.close());
  const [aliceUser, bobUser] = await people(s, 'bob');
  await registerDevice(s, aliceUser);
  const bobDevice = await registerDevice(s, bobUser);
  const conv: string = (await api(s, aliceUser.cookie, 'POST', '/api/dms', { username: 'bob' })).body.id;
  assert.equal((await api(s, aliceUser.cookie, 'POST', `/api/mls/groups/${conv}`)).status, 201);

  const [alice, bob] = await Promise.all([makeClient(aliceUser.user.id), makeClient(bobUser.user.id)]);
  let aliceGroup: MlsGroup = await MlsGroup.create(alice.device, conversationGroupId(conv), alice.pins);
  const add = await aliceGroup.add([{ userId: bob.userId, keyPackage: bob.keyPackages[0].keyPackage }]);
  assert.ok(add.welcome);
  const posted = await api(s, aliceUser.cookie, 'POST', `/api/mls/groups/${conv}/commits`, {
    epoch: 0,
    commit: b64u(add.commit),
    welcome: { bytes: b64u(add.welcome), devices: [bobDevice.id] },
  });
  assert.equal(posted.status, 201, posted.text);
  aliceGroup = add.accept();

  const [welcome] = (await api(s, bobUser.cookie, 'GET', '/api/mls/welcomes')).body.welcomes;
  const joined = await MlsGroup.join(bob.device, Buffer.from(welcome.welcome, 'base64url'), bob.keyPackages, bob.pins, { expectedGroupId: conversationGroupId(conv) });
  let bobGroup: MlsGroup = joined.group;
  assert.equal(bobGroup.epoch, 1n);

  // Alice rotates twice; Bob catches up from the log and ends in the same epoch with the same secret.
  for (const epoch of [1, 2]) {
    const update = await aliceGroup.selfUpdate();
    const res = await api(s, aliceUser.cookie, 'POST', `/api/mls/groups/${conv}/commits`, { epoch, commit: b64u(update.commit) });
    assert.equal(res.status, 201, res.text);
    aliceGroup = update.accept();
  }
  // A real commit posted under the wrong epoch is caught by the header, before the epoch check.
  const replayed = await aliceGroup.selfUpdate();
  const wrong = await api(s, aliceUser.cookie, 'POST', `/api/mls/groups/${conv}/commits`, { epoch: 2, commit: b64u(replayed.commit) });
  assert.equal(wrong.body.error.code, 'MLS_BAD_COMMIT');
  assert.equal(wrong.body.error.reason, 'epoch');

  const log = await api(s, bobUser.cookie, 'GET', `/api/mls/groups/${conv}/log?fromEpoch=1`);
  for (const entry of log.body.entries) bobGroup = (await bobGroup.process(Buffer.from(entry.commit, 'base64url'))).group;
  assert.equal(bobGroup.epoch, 3n);
  assert.equal(Buffer.from((await bobGroup.epochKeys()).contentSecret).toString('hex'), Buffer.from((await aliceGroup.epochKeys()).contentSecret).toString('hex'));
});
