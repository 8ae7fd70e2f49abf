// bin/chatroom.js: a shim that runs the built CLI, and says to build when dist/ is missing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, requireBuild, tempDir } from './helpers.ts';

test('the shim is executable and passes the exit code through', () => {
  requireBuild();
  assert.ok(statSync(BIN).mode & 0o100, 'bin/chatroom.js has the x bit');
  const version = spawnSync(BIN, ['--version'], { encoding: 'utf8' });
  assert.equal(version.status, 0, version.stderr);
  assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
  const usage = spawnSync(process.execPath, [BIN, 'no-such-command'], { encoding: 'utf8' });
  assert.equal(usage.status, 2);
});

test('without dist/ the shim prints one line saying to run npm run build, exit 1', (t) => {
  const root = tempDir(t);
  mkdirSync(join(root, 'bin'));
  copyFileSync(BIN, join(root, 'bin', 'chatroom.js'));
  const r = spawnSync(process.execPath, [join(root, 'bin', 'chatroom.js'), '--help'], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, 'chatroom: the built files are missing; run `npm run build` first.\n');
});
