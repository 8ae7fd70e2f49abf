// The published package: `npm pack` ships built JS (no tsx, no TypeScript sources), the templates
// and the built web client, and the packed bin runs `init` and `--help` from an unpacked copy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../../', import.meta.url).pathname;

test('npm pack ships a runnable CLI built to JavaScript', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'chatroom-pack-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const json = execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], { cwd: root, encoding: 'utf8' });
  const [info] = JSON.parse(json) as Array<{ filename: string; files: Array<{ path: string }> }>;
  const paths = info.files.map((f) => f.path);
  for (const needed of ['bin/chatroom.js', 'dist/cli/index.js', 'dist/server/app.js', 'dist/web/index.html', 'dist/web/app.js', 'templates/config.yaml', 'LICENSE', 'README.md']) {
    assert.ok(paths.includes(needed), `${needed} is in the package`);
  }
  assert.equal(paths.filter((p) => p.endsWith('.ts') && !p.endsWith('.d.ts')).length, 0, 'no TypeScript sources are shipped');
  assert.equal(paths.some((p) => p.startsWith('test/') || p.startsWith('bench/')), false, 'no tests or benchmarks are shipped');

  execFileSync('tar', ['-xzf', join(work, info.filename), '-C', work]);
  const pkg = join(work, 'package');
  const manifest = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8'));
  assert.equal(manifest.bin.chatroom, 'bin/chatroom.js');
  assert.equal(Object.keys(manifest.dependencies).includes('tsx'), false, 'tsx is not a runtime dependency');
  // Dependencies as an install would provide them (the repo's own node_modules, already built).
  symlinkSync(join(root, 'node_modules'), join(pkg, 'node_modules'));

  const help = spawnSync(process.execPath, [join(pkg, 'bin/chatroom.js'), '--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /init/);
  assert.match(help.stdout, /start/);

  const dir = join(work, 'instance');
  const init = spawnSync(process.execPath, [join(pkg, 'bin/chatroom.js'), 'init', '--yes', '--dir', dir, '--no-upnp'], { encoding: 'utf8' });
  assert.equal(init.status, 0, init.stderr);
  assert.match(init.stdout, /^Admin setup link: https?:\/\/\S+\/setup\/\S+$/m);
  assert.ok(existsSync(join(dir, 'chatroom.yaml')));
});
