// Acceptance: the CLI sets up and serves chatroom over self-signed TLS; two people in Chromium sign up, chat in general, a DM and a group, reload, and survive a server restart.
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { acceptRecoveryKey, chromiumSkipReason, describeProblems, launchBrowser, newContext, newPage, sendMessage } from '../helpers/browser.ts';
import { freePort, initInstance, loopback, startCli } from './cli-server.ts';

/** Live delivery budget between two browsers, ms (the "within 1 s"). */
const LIVE_MS = 1_000;
/**
 * The first message of a conversation also sets up its end-to-end encryption (the MLS group, a
 * commit adding the other's device, their Welcome), on a machine shared with other test runs, ms.
 */
const FIRST_MS = 20_000;
/** After a server restart the client reconnects with backoff (0.5 s, 1 s, 2 s, …), ms. */
// Worst case: the restart itself plus one full backoff wait (BACKOFF_MAX_MS = 10 s), on a loaded machine.
const RECONNECT_MS = 30_000;
/** Lines Chromium logs by itself while the server is down on purpose. */
const DOWNTIME_NOISE = /WebSocket connection to .* failed|ERR_CONNECTION_REFUSED|net::ERR_|status of 503/;

/** The article in the Messages log that holds `text` (waits up to `timeout` ms). */
async function seeMessage(page: Page, text: string, author: string, timeout = LIVE_MS): Promise<void> {
  const article = page.getByRole('log', { name: 'Messages' }).getByRole('article').filter({ hasText: text });
  await article.waitFor({ timeout });
  assert.match(await article.innerText(), new RegExp(author), `the message "${text}" names its author ${author}`);
}


/** Opens a conversation from the Conversations landmark by (the start of) its name. */
async function open(page: Page, name: string, timeout = 5_000): Promise<void> {
  const link = page.getByRole('navigation', { name: 'Conversations' }).getByRole('link', { name: new RegExp(`^${name}\\b`) });
  await link.first().click({ timeout });
  await page.getByRole('heading', { name }).waitFor();
}

async function signUp(page: Page, link: string, username: string, password: string): Promise<void> {
  await page.goto(link);
  await page.getByRole('textbox', { name: 'Username' }).fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await acceptRecoveryKey(page);
  await page.getByRole('navigation', { name: 'Conversations' }).waitFor({ timeout: 20_000 });
}

test('two people set up, invite, chat, reload and outlive a restart', { skip: chromiumSkipReason(), timeout: 180_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'chatroom-e2e-'));
  // One hook, so the order is certain: browser, then server, then the directory.
  const cleanup: Array<() => unknown> = [() => rmSync(dir, { recursive: true, force: true })];
  t.after(async () => {
    for (const step of cleanup.reverse()) await step();
  });
  const port = await freePort();

  const setupLink = await initInstance(dir, port);
  assert.match(new URL(setupLink).pathname, /setup/);

  let server = await startCli(dir, port);
  cleanup.push(() => server.stop());

  const browser = await launchBrowser();
  cleanup.push(() => browser.close());
  const pageA = await newPage(await newContext(browser));
  const pageB = await newPage(await newContext(browser));

  // The owner signs up from the setup link and invites someone.
  await signUp(pageA, setupLink, 'alice', 'alice: correct horse battery staple');
  await pageA.getByRole('button', { name: 'Invite people' }).click();
  const inviteBox = pageA.getByRole('textbox', { name: 'Invite link' });
  await inviteBox.waitFor();
  const inviteLink = loopback(await inviteBox.inputValue(), port);
  assert.match(new URL(inviteLink).pathname, /invite/);
  await pageA.keyboard.press('Escape');
  await pageA.getByRole('dialog').waitFor({ state: 'hidden' });

  await signUp(pageB, inviteLink, 'bob', 'bob: tr0ub4dor&3 but longer');

  // general: both ways, live.
  await open(pageA, 'general');
  await open(pageB, 'general');
  await sendMessage(pageA, 'Hello from alice in general');
  await seeMessage(pageB, 'Hello from alice in general', 'alice', FIRST_MS);
  await sendMessage(pageB, 'Hi alice, bob here');
  await seeMessage(pageA, 'Hi alice, bob here', 'bob');

  // A direct message.
  await pageA.getByRole('button', { name: 'New direct message' }).click();
  await pageA.getByRole('dialog').getByRole('textbox', { name: 'Username' }).fill('bob');
  await pageA.getByRole('dialog').getByRole('button', { name: 'Start conversation' }).click();
  await pageA.getByRole('heading', { name: 'bob' }).waitFor();
  await sendMessage(pageA, 'Just between us, bob');
  await open(pageB, 'alice');
  await seeMessage(pageB, 'Just between us, bob', 'alice', FIRST_MS);
  await sendMessage(pageB, 'Secret reply to alice');
  await seeMessage(pageA, 'Secret reply to alice', 'bob');

  // A group.
  await pageA.getByRole('button', { name: 'New group' }).click();
  await pageA.getByRole('dialog').getByRole('textbox', { name: 'Group name' }).fill('Weekend');
  await pageA.getByRole('dialog').getByRole('textbox', { name: 'Members' }).fill('bob');
  await pageA.getByRole('dialog').getByRole('button', { name: 'Create group' }).click();
  await pageA.getByRole('heading', { name: 'Weekend' }).waitFor();
  await sendMessage(pageA, 'Group plans for the weekend?');
  await open(pageB, 'Weekend');
  await seeMessage(pageB, 'Group plans for the weekend?', 'alice', FIRST_MS);
  await sendMessage(pageB, 'Hiking on Saturday');
  await seeMessage(pageA, 'Hiking on Saturday', 'bob');

  // Unread badge: bob is in the group while alice writes in general.
  await open(pageA, 'general');
  await sendMessage(pageA, 'Anyone around?');
  await pageB
    .getByRole('navigation', { name: 'Conversations' })
    .getByRole('link', { name: 'general, 1 unread' })
    .waitFor({ timeout: LIVE_MS });

  // Reload keeps bob signed in, with the history.
  await pageB.reload();
  await pageB.getByRole('heading', { name: 'Weekend' }).waitFor();
  await seeMessage(pageB, 'Group plans for the weekend?', 'alice', 5_000);
  await seeMessage(pageB, 'Hiking on Saturday', 'bob', 5_000);

  assert.deepEqual(describeProblems([pageA, pageB]), [], 'no console errors or CSP violations before the restart');
  const before = describeProblems([pageA, pageB]).length;

  // Restart: SIGTERM exits 0, the data is still there, and live delivery resumes after reconnect.
  assert.equal(await server.stop(), 0, 'chatroom start exits 0 on SIGTERM');
  server = await startCli(dir, port);
  await pageA.reload();
  await pageA.getByRole('heading', { name: 'general' }).waitFor();
  await seeMessage(pageA, 'Hello from alice in general', 'alice', 5_000);
  await seeMessage(pageA, 'Hi alice, bob here', 'bob', 5_000);
  await open(pageB, 'general');
  await seeMessage(pageB, 'Anyone around?', 'alice', 5_000);
  await pageB.getByRole('status').filter({ hasText: 'Reconnecting' }).waitFor({ state: 'hidden', timeout: RECONNECT_MS });
  await sendMessage(pageA, 'Back after the restart');
  await seeMessage(pageB, 'Back after the restart', 'alice', RECONNECT_MS);

  const after = describeProblems([pageA, pageB]).slice(before).filter((line) => !DOWNTIME_NOISE.test(line));
  assert.deepEqual(after, [], 'no console errors or CSP violations after the restart (beyond the planned downtime)');
  assert.ok(!describeProblems([pageA, pageB]).some((l) => l.startsWith('CSP')), 'zero CSP violations overall');
});
