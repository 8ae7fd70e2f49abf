// A computer with no network at all (a namespace with only lo): doctor's router.gateway warns with the fix, and start says once that nothing answered.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { requirementsSkip } from '../helpers/requires.ts';
import { Output, removeLeftovers, sh, shAny } from './lab.ts';

const skip = requirementsSkip([{ pkg: 'iproute2', binary: '/usr/sbin/ip' }], { root: true });
const BIN = join(new URL('../..', import.meta.url).pathname, 'bin', 'chatroom.js');

test('no default route: router.gateway and router.portmapping warn; start serves on and says so once', { skip }, async (t) => {
  removeLeftovers();
  const ns = `crn${process.pid}k90-lan`;
  sh('ip', ['netns', 'add', ns]);
  t.after(() => void shAny('ip', ['netns', 'del', ns]));
  sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  const dir = mkdtempSync(join(tmpdir(), 'crn-nonet-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  sh(process.execPath, [BIN, 'init', '--yes', '--dir', dir]);

  let out = '';
  try {
    out = sh('ip', ['netns', 'exec', ns, process.execPath, BIN, 'doctor', '--json', '--dir', dir, '--timeout', '1000']);
  } catch (err) {
    out = (err as { stdout: string }).stdout;
  }
  const report = JSON.parse(out) as { checks: Array<{ id: string; status: string; value: string; fix?: string[] }> };
  const gw = report.checks.find((c) => c.id === 'router.gateway');
  assert.equal(gw?.status, 'warn', out);
  assert.match(gw.value, /no IPv4 default route/);
  assert.ok(gw.fix?.length);
  assert.equal(report.checks.find((c) => c.id === 'router.portmapping')?.status, 'warn');

  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, BIN, 'start', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  const output = new Output(child.stdout, child.stderr);
  await output.waitFor(/^! No port mapping: the router answered none/m, 30_000);
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
  assert.equal(output.count(/No port mapping/), 1);
});
