// chatroom doctor --remote in Chromium: the printed one-time URLs (Wi-Fi, then mobile data) load under the strict CSP, the phone's findings (secure context, page load, WebSocket connect) are printed live, a used link answers 410, a running server gets a spare port, and no phone means a clear failure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { chromiumSkipReason, describeProblems, launchBrowser, newContext, newPage } from '../helpers/browser.ts';
import { freePort, runCli, spawnCli, tempDir } from './helpers.ts';

const skip = chromiumSkipReason();
/** The Router and Internet sections talk to the real network's router: tests leave it alone. */
const ONLY = ['--only', 'local,firewall'];

async function initDir(t: TestContext, port: number, extra: string[] = []): Promise<string> {
  const dir = tempDir(t, 'chatroom-remote-');
  const r = await runCli(t, ['init', '--yes', '--dir', dir, '--host', '0.0.0.0', '--port', String(port), '--http-port', '0', ...extra]);
  assert.equal(r.code, 0, r.stderr);
  return dir;
}

/** The phone's URL, reached over loopback (the listener binds 0.0.0.0, so 127.0.0.1 gets the same page): tests never leave loopback. */
function overLoopback(url: string): string {
  const u = new URL(url);
  u.hostname = '127.0.0.1';
  return u.toString();
}

/**
 * The exit code the checks before the phone test call for: 1 when any of them printed ✗ (the
 * Router/Internet sections look at a real network that tests do not control), else 0.
 */
function reportCode(stdout: string): number {
  return /✗/.test(stdout.split('Phone check')[0]!) ? 1 : 0;
}


async function browserPage(t: TestContext) {
  const browser = await launchBrowser();
  t.after(() => browser.close());
  const page = await newPage(await newContext(browser));
  return page;
}

test('Wi-Fi then mobile data: both pages report a secure context and a WebSocket, doctor prints them and exits as the report says', { skip }, async (t) => {
  const port = await freePort();
  // The "public" address is loopback too, so the mobile-data step also stays on this computer.
  const dir = await initDir(t, port, ['--public-url', `https://127.0.0.1:${port}`]);
  const doctor = spawnCli(t, ['doctor', '--remote', '--dir', dir, '--wait', '60', '--timeout', '1000', ...ONLY]);
  const wifi = (await doctor.stdout.waitFor(/Step 1 of 2: phone on Wi-Fi.*\n {2}(https:\/\/\S+)/))[1]!;
  const mobile = (await doctor.stdout.waitFor(/Step 2 of 2: phone on mobile data.*\n {2}(https:\/\/\S+)/))[1]!;
  assert.match(wifi, new RegExp(`^https://[^/]+:${port}/r/[A-Za-z0-9_-]+/$`));
  assert.match(mobile, new RegExp(`^https://127\\.0\\.0\\.1:${port}/r/[A-Za-z0-9_-]+/$`));
  assert.notEqual(new URL(wifi).pathname, new URL(mobile).pathname);

  const page = await browserPage(t);
  const first = await page.goto(overLoopback(wifi));
  assert.equal(first?.status(), 200);
  assert.match(first?.headers()['content-security-policy'] ?? '', /script-src 'self'/);
  await doctor.stdout.waitFor(/✓ Wi-Fi: secure context, page loaded in \d+ ms, WebSocket connected in \d+ ms\n/);
  await page.getByRole('status').filter({ hasText: 'Done' }).waitFor();

  await page.goto(mobile);
  await doctor.stdout.waitFor(/✓ Mobile data: secure context, page loaded in \d+ ms, WebSocket connected in \d+ ms\n/);
  assert.equal(await doctor.exited, reportCode(doctor.stdout.text), doctor.stdout.text + doctor.stderr.text);
  assert.deepEqual(describeProblems([page]), []);
});

test('a used link answers 410 while the other step still waits', { skip }, async (t) => {
  const port = await freePort();
  const dir = await initDir(t, port, ['--public-url', `https://127.0.0.1:${port}`]);
  const doctor = spawnCli(t, ['doctor', '--remote', '--dir', dir, '--wait', '60', '--timeout', '1000', ...ONLY]);
  const wifi = (await doctor.stdout.waitFor(/Step 1 of 2: phone on Wi-Fi.*\n {2}(https:\/\/\S+)/))[1]!;
  const page = await browserPage(t);
  await page.goto(overLoopback(wifi));
  await doctor.stdout.waitFor(/✓ Wi-Fi:/);
  const again = await page.goto(overLoopback(wifi));
  assert.equal(again?.status(), 410);
  doctor.proc.kill('SIGINT');
  assert.equal(await doctor.exited, 1);
  assert.match(doctor.stdout.text, /! Mobile data: not tested \(stopped\)/);
});

test('with chatroom running: a spare port and the Wi-Fi step only', { skip }, async (t) => {
  const port = await freePort();
  const dir = await initDir(t, port);
  const server = spawnCli(t, ['start', '--dir', dir]);
  await server.stdout.waitFor(/is running/);
  const doctor = spawnCli(t, ['doctor', '--remote', '--dir', dir, '--wait', '60', '--timeout', '1000', ...ONLY]);
  await doctor.stdout.waitFor(new RegExp(`chatroom is running on ${port}, so this test uses the spare port \\d+`));
  const wifi = (await doctor.stdout.waitFor(/Step 1 of 1: phone on Wi-Fi.*\n {2}(https:\/\/\S+)/))[1]!;
  assert.doesNotMatch(wifi, new RegExp(`:${port}/`));
  const page = await browserPage(t);
  await page.goto(overLoopback(wifi));
  await doctor.stdout.waitFor(/✓ Wi-Fi: secure context, page loaded in \d+ ms, WebSocket connected in \d+ ms\n/);
  assert.match(doctor.stdout.text, new RegExp(`✓ HTTPS port +chatroom is running on ${port}`));
  assert.equal(await doctor.exited, reportCode(doctor.stdout.text), doctor.stdout.text);
  assert.deepEqual(describeProblems([page]), []);
  server.proc.kill('SIGTERM');
  assert.equal(await server.exited, 0);
});

test('no phone within --wait: each step says what probably blocks it, exit 1', async (t) => {
  const port = await freePort();
  const dir = await initDir(t, port);
  const r = await runCli(t, ['doctor', '--remote', '--dir', dir, '--wait', '1', '--timeout', '1000', ...ONLY]);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /✗ Wi-Fi: no answer from the phone\n.*firewall blocks TCP \d+/);
  assert.match(r.stdout, /No public address is known/);
});

test('--remote refuses a loopback-only server and --json', async (t) => {
  const port = await freePort();
  const dir = tempDir(t, 'chatroom-remote-');
  assert.equal((await runCli(t, ['init', '--yes', '--dir', dir, '--host', '127.0.0.1', '--port', String(port), '--http-port', '0'])).code, 0);
  const r = await runCli(t, ['doctor', '--remote', '--dir', dir, '--wait', '1']);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /listens on 127\.0\.0\.1 only: no phone can reach it/);
  const json = await runCli(t, ['doctor', '--remote', '--json', '--dir', dir]);
  assert.equal(json.code, 2);
  assert.match(json.stderr, /USAGE/);
});
