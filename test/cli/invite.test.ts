// chatroom invite: prints a one-time invite link while the server runs (second process on the same SQLite file), and the running server accepts it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, spawnCli, tempDir } from './helpers.ts';

test('invite while the server runs prints a link the running server accepts', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'chatroom.yaml'), 'host: 127.0.0.1\nport: 0\nhttpPort: 0\nupnp: false\ntls:\n  mode: off\n');
  const server = spawnCli(t, ['start', '--dir', dir]);
  const [, base] = await server.stdout.waitFor(/^Local: +(http:\/\/127\.0\.0\.1:\d+)$/m);

  const r = await runCli(t, ['invite', '--dir', dir]);
  assert.equal(r.code, 0, r.stderr);
  const m = r.stdout.match(/^Invite link: (http:\/\/\S+\/invite\/([A-Za-z0-9_-]+))$/m);
  assert.ok(m, `an invite line in:\n${r.stdout}`);
  assert.match(r.stdout, /expires in 7 days/);

  // The running server reads the invite the other process wrote.
  const info = await fetch(`${base}/api/invites/${m[2]}`);
  assert.equal(info.status, 200);
  assert.equal((await info.json()).kind, 'invite');
  assert.equal((await fetch(`${base}/api/invites/not-a-real-token-at-all-000000000000000000`)).status, 404);

  // A second invite is a different link, and the server is still healthy.
  const again = await runCli(t, ['invite', '--dir', dir]);
  assert.equal(again.code, 0, again.stderr);
  assert.notEqual(again.stdout.match(/\/invite\/(\S+)/)?.[1], m[2]);
  assert.equal((await fetch(`${base}/healthz`)).status, 200);

  // Flags set the link's address like they do for start.
  const port = new URL(base).port;
  const withPort = await runCli(t, ['invite', '--dir', dir, '--port', port]);
  assert.match(withPort.stdout, new RegExp(`^Invite link: ${base.replace(/\./g, '\\.')}/invite/\\S+$`, 'm'));

  server.proc.kill('SIGTERM');
  assert.equal(await server.exited, 0, server.stderr.text);
});

test('invite without a config exits 2; an unknown --server exits 2', async (t) => {
  const empty = tempDir(t);
  const missing = await runCli(t, ['invite', '--dir', empty]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /CONFIG_MISSING/);

  const dir = tempDir(t);
  assert.equal((await runCli(t, ['init', '--yes', '--dir', dir, '--host', '127.0.0.1'])).code, 0);
  const unknown = await runCli(t, ['invite', '--dir', dir, '--server', 'no-such-server']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /No server with id "no-such-server"/);
});
