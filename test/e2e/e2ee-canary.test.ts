// Canary in Chromium against the real CLI server: two people exchange distinctive text in general, a group and a DM; no WebSocket frame or HTTP request the browsers send carries it; the text is then nowhere in the data dir (every file: database, -wal, -shm, blobs, keys), in neither of the server's stdout and stderr, and every stored body is a content envelope (version byte 1, not JSON).
import test from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Page } from 'playwright-core';
import { acceptRecoveryKey, chromiumSkipReason, describeProblems, launchBrowser, messageLog, newContext, newPage, seeMessage, sendMessage } from '../helpers/browser.ts';
import { freePort, initInstance, loopback, startCli } from './cli-server.ts';
import { filesUnder } from '../helpers/files.ts';

/** Playwright's wait for a message to arrive, ms (adding a device to a group takes a commit and a Welcome). */
const ARRIVAL_MS = 30_000;


/** The canary as the bytes it could be stored as: UTF-8, UTF-16 (either order) and hex. */
function needles(canary: string): Buffer[] {
  return [Buffer.from(canary, 'utf8'), Buffer.from(canary, 'utf16le'), Buffer.from(canary, 'utf16le').swap16(), Buffer.from(Buffer.from(canary).toString('hex'))];
}




async function open(page: Page, name: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Conversations' }).getByRole('link', { name: new RegExp(`^${name}\\b`) }).first().click({ timeout: ARRIVAL_MS });
  await page.getByRole('heading', { name }).waitFor();
}

async function signUp(page: Page, link: string, username: string): Promise<void> {
  await page.goto(link);
  await page.getByRole('textbox', { name: 'Username' }).fill(username);
  await page.getByLabel('Password').fill(`${username}: a long enough password`);
  await page.getByRole('button', { name: 'Create account' }).click();
  await acceptRecoveryKey(page);
  await page.getByRole('navigation', { name: 'Conversations' }).waitFor({ timeout: 20_000 });
}

test('canary: no message text reaches the server\'s disk or output', { skip: chromiumSkipReason(), timeout: 300_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'chatroom-canary-'));
  const cleanup: Array<() => unknown> = [() => rmSync(dir, { recursive: true, force: true })];
  t.after(async () => {
    for (const step of cleanup.reverse()) await step();
  });
  const port = await freePort();
  const setupLink = await initInstance(dir, port, 'Canary chat');
  const server = await startCli(dir, port);
  cleanup.push(() => server.stop());
  const browser = await launchBrowser();
  cleanup.push(() => browser.close());
  const pageA = await newPage(await newContext(browser));
  const pageB = await newPage(await newContext(browser));
  // Everything the two browsers send to the server: socket frames and request bodies.
  const outgoing: string[] = [];
  for (const page of [pageA, pageB]) {
    page.on('websocket', (ws) => ws.on('framesent', (f) => outgoing.push(typeof f.payload === 'string' ? f.payload : f.payload.toString('latin1'))));
    page.on('request', (r) => outgoing.push(r.url(), r.postDataBuffer()?.toString('latin1') ?? ''));
  }

  await signUp(pageA, setupLink, 'alice');
  await pageA.getByRole('button', { name: 'Invite people' }).click();
  const inviteLink = loopback(await pageA.getByRole('textbox', { name: 'Invite link' }).inputValue(), port);
  await pageA.keyboard.press('Escape');
  await signUp(pageB, inviteLink, 'bob');

  const canary = `canary-${randomBytes(9).toString('hex')}`;
  const sent: string[] = [];
  const exchange = async (where: string) => {
    const fromA = `${canary} ${where} from alice`;
    const fromB = `${canary} ${where} from bob`;
    await sendMessage(pageA, fromA);
    await seeMessage(pageB, fromA, ARRIVAL_MS);
    await sendMessage(pageB, fromB);
    await seeMessage(pageA, fromB, ARRIVAL_MS);
    sent.push(fromA, fromB);
  };

  await t.test('general, a DM and a group, both ways, each end-to-end encrypted', async () => {
    await open(pageA, 'general');
    await open(pageB, 'general');
    await pageA.getByRole('note', { name: 'End-to-end encrypted' }).waitFor();
    await exchange('general');

    await pageA.getByRole('button', { name: 'New direct message' }).click();
    await pageA.getByRole('dialog').getByRole('textbox', { name: 'Username' }).fill('bob');
    await pageA.getByRole('dialog').getByRole('button', { name: 'Start conversation' }).click();
    await pageA.getByRole('heading', { name: 'bob' }).waitFor();
    await open(pageB, 'alice');
    await exchange('dm');

    await pageA.getByRole('button', { name: 'New group' }).click();
    await pageA.getByRole('dialog').getByRole('textbox', { name: 'Group name' }).fill('Canaries');
    await pageA.getByRole('dialog').getByRole('textbox', { name: 'Members' }).fill('bob');
    await pageA.getByRole('dialog').getByRole('button', { name: 'Create group' }).click();
    await pageA.getByRole('heading', { name: 'Canaries' }).waitFor();
    await open(pageB, 'Canaries');
    await exchange('group');
    assert.deepEqual(describeProblems([pageA, pageB]), []);
  });

  await t.test('no frame or request the browsers sent carries the text', () => {
    const bodies = outgoing.filter((x) => x.startsWith('{"t":"send"')).map((x) => Buffer.from((JSON.parse(x) as { body: string }).body, 'base64'));
    assert.ok(bodies.length >= 6, 'the send frames were seen');
    for (const x of outgoing) assert.ok(!x.includes(canary), 'the canary never leaves a browser in the clear');
    for (const body of bodies) {
      assert.equal(body[0], 1, 'each body sent is an envelope');
      for (const n of needles(canary)) assert.ok(!body.includes(n), 'no body sent carries the text');
    }
  });

  const search = (when: string) => {
    const files = filesUnder(dir);
    assert.ok(files.some((f) => f.path.endsWith('chatroom.db')), `${when}: the database is in the data dir`);
    for (const f of files) for (const n of needles(canary)) assert.ok(!f.bytes.includes(n), `${when}: ${f.path} must not contain the canary`);
    return files;
  };

  await t.test('while the server runs: not in any file of the data dir (the WAL included)', () => {
    const files = search('running');
    assert.ok(files.some((f) => f.path.endsWith('chatroom.db-wal')), 'the WAL is there to search');
  });

  await t.test('after it stopped: not in any file, not in stdout or stderr; every body is an envelope', async () => {
    assert.equal(await server.stop(), 0);
    search('stopped');
    for (const stream of [server.stdout(), server.stderr()]) assert.ok(!stream.includes(canary), 'the server never printed the canary');
    const dbPath = filesUnder(dir).find((f) => f.path.endsWith('chatroom.db'))!.path;
    const db = new Database(dbPath, { readonly: true });
    try {
      const bodies = db.prepare('SELECT body FROM messages').all() as Array<{ body: Buffer }>;
      assert.ok(bodies.length >= sent.length, `at least the ${sent.length} messages sent are stored`);
      for (const { body } of bodies) {
        assert.equal(body[0], 1, 'content envelope version 1');
        assert.throws(() => JSON.parse(body.toString('utf8')), 'not JSON');
      }
    } finally {
      db.close();
    }
  });
});
