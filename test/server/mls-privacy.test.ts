// MLS privacy: a full delivery-service flow, including refused and malformed requests, writes none of its ids, certificates, KeyPackages, commits, Welcomes or backups to stdout or stderr.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api } from '../helpers/client.ts';
import { createUser } from '../helpers/direct.ts';
import { b64u, registerDevice, startMlsServer, uploadPackages, fakeCommit, tagOf } from './mls-helpers.ts';

/** Records everything written to stdout and stderr until `stop()`. */
function captureOutput(): { text(): string; stop(): void } {
  const chunks: string[] = [];
  const originals = [process.stdout.write, process.stderr.write] as const;
  for (const stream of [process.stdout, process.stderr]) {
    const original = stream.write.bind(stream);
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
      return (original as (...a: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof stream.write;
  }
  return {
    text: () => chunks.join(''),
    stop() {
      process.stdout.write = originals[0];
      process.stderr.write = originals[1];
    },
  };
}

test('nothing from the MLS routes reaches stdout or stderr', async (t) => {
  const out = captureOutput();
  t.after(() => out.stop());
  const s = await startMlsServer();
  t.after(() => s.close());
  const canary = 'mlscanary7c1';
  const alice = await createUser(s, `${canary}a`);
  const bob = await createUser(s, `${canary}b`);
  const aliceDevice = await registerDevice(s, alice, `${canary}-label`);
  const bobDevice = await registerDevice(s, bob);
  await uploadPackages(s, bob, `${canary}-kp`, 2);
  const conv: string = (await api(s, alice.cookie, 'POST', '/api/dms', { username: bob.user.username })).body.id;
  await api(s, alice.cookie, 'POST', `/api/mls/groups/${conv}`);
  await api(s, alice.cookie, 'POST', `/api/mls/users/${bob.user.id}/key-packages/claim`, {});
  await api(s, alice.cookie, 'POST', `/api/mls/groups/${conv}/commits`, { epoch: 0, commit: fakeCommit(conv, 0, `${canary}-commit`), welcome: { bytes: b64u(`${canary}-welcome`), devices: [bobDevice.id] } });
  await api(s, bob.cookie, 'POST', `/api/mls/groups/${conv}/commits`, { epoch: 0, commit: fakeCommit(conv, 0, `${canary}-loser`) });
  await api(s, bob.cookie, 'GET', '/api/mls/welcomes');
  await api(s, alice.cookie, 'POST', '/api/mls/devices', { certificate: `${canary}+bad`, label: canary });
  await api(s, alice.cookie, 'PUT', '/api/mls/backup/archive', `${canary}-archive`, { contentType: 'application/octet-stream', headers: { 'if-match': '0' } });
  await api(s, alice.cookie, 'PUT', '/api/mls/backup/archive', `${canary}-stale`, { contentType: 'application/octet-stream', headers: { 'if-match': '0' } });
  await api(s, alice.cookie, 'POST', `/api/mls/groups/${conv}/commits`, `{"epoch": ${canary}`, { contentType: 'application/json' });
  out.stop();
  const text = out.text();
  for (const secret of [canary, alice.user.id, bob.user.id, aliceDevice.id, bobDevice.id, conv, b64u(canary).slice(0, 12)]) {
    assert.equal(text.includes(secret), false, `leaked ${secret.slice(0, 6)}…`);
  }
});
