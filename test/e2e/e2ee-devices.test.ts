// A second browser and safety numbers in Chromium: alice signs up and saves her recovery key, chats with bob in a DM, signs in on a second browser, unlocks with the recovery key and reads the earlier messages (epoch-key archive); then alice and bob see the same 60-digit safety number (12 groups of 5, with a QR code), mark each other verified and see the verified badge.
import test from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { startTestServer } from '../helpers/server.ts';
import { inviteToken } from '../helpers/client.ts';
import { ensureSetupLink } from '../../src/server/invites.ts';
import { acceptRecoveryKey, chromiumSkipReason, describeProblems, launchBrowser, messageLog, newContext, newPage, seeMessage, sendMessage } from '../helpers/browser.ts';
import { unlockWithRecoveryKey } from './e2ee-helpers.ts';

/** Playwright's wait for a message or a key to arrive, ms (a device joins through a commit and a Welcome). */
const ARRIVAL_MS = 30_000;




async function signUp(page: Page, link: string, username: string): Promise<string> {
  await page.goto(link);
  await page.getByRole('textbox', { name: 'Username' }).fill(username);
  await page.getByLabel('Password').fill(`${username}: a long enough password`);
  await page.getByRole('button', { name: 'Create account' }).click();
  const key = await acceptRecoveryKey(page);
  await page.getByRole('navigation', { name: 'Conversations' }).waitFor({ timeout: 20_000 });
  return key;
}

async function openDm(page: Page, name: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Conversations' }).getByRole('link', { name: new RegExp(`^${name}\\b`) }).first().click({ timeout: ARRIVAL_MS });
  await page.getByRole('heading', { name }).waitFor();
}

/** Opens the safety-number dialog with `other` from the DM header; returns the dialog and the 60 digits it shows. */
async function safetyNumber(page: Page, other: string) {
  await page.getByRole('button', { name: `Verify safety number with ${other}` }).first().click();
  const dialog = page.getByRole('dialog', { name: `Safety number with ${other}` });
  const digits = dialog.getByLabel('Safety number', { exact: true });
  await digits.waitFor({ timeout: ARRIVAL_MS });
  return { dialog, digits: (await digits.getAttribute('data-digits')) ?? '', groups: (await digits.innerText()).split(/\s+/).filter(Boolean) };
}

test('a second browser reads earlier messages; both sides verify the same safety number', { skip: chromiumSkipReason(), timeout: 300_000 }, async (t) => {
  const server = await startTestServer();
  const browser = await launchBrowser();
  t.after(async () => {
    await browser.close();
    await server.close();
  });
  const setup = await ensureSetupLink(server.store, server.url, 1);
  assert.ok(setup);
  const pageA = await newPage(await newContext(browser));
  const pageB = await newPage(await newContext(browser));
  const pageA2 = await newPage(await newContext(browser));
  const recoveryKey = await signUp(pageA, `${server.url}/setup/${setup.token}`, 'alice');
  await signUp(pageB, `${server.url}/invite/${await inviteToken(server)}`, 'bob');

  await t.test('alice and bob chat in a DM', async () => {
    await pageA.getByRole('button', { name: 'New direct message' }).click();
    await pageA.getByRole('dialog').getByRole('textbox', { name: 'Username' }).fill('bob');
    await pageA.getByRole('dialog').getByRole('button', { name: 'Start conversation' }).click();
    await pageA.getByRole('heading', { name: 'bob' }).waitFor();
    await sendMessage(pageA, 'first from alice');
    await openDm(pageB, 'alice');
    await seeMessage(pageB, 'first from alice', ARRIVAL_MS);
    await sendMessage(pageB, 'reply from bob');
    await seeMessage(pageA, 'reply from bob', ARRIVAL_MS);
  });

  await t.test('alice on a second browser unlocks with the recovery key and reads what was said before', async () => {
    await pageA2.goto(`${server.url}/signin`);
    await pageA2.getByRole('textbox', { name: 'Username' }).fill('alice');
    await pageA2.getByLabel('Password').fill('alice: a long enough password');
    await pageA2.getByRole('button', { name: 'Sign in' }).click();
    await unlockWithRecoveryKey(pageA2, recoveryKey);
    await openDm(pageA2, 'bob');
    await seeMessage(pageA2, 'first from alice', ARRIVAL_MS);
    await seeMessage(pageA2, 'reply from bob', ARRIVAL_MS);
    assert.equal(await messageLog(pageA2).getByText('Cannot decrypt').count(), 0, 'nothing left undecryptable');
    await sendMessage(pageA2, 'from alice’s second browser');
    await seeMessage(pageB, 'from alice’s second browser', ARRIVAL_MS);
    await seeMessage(pageA, 'from alice’s second browser', ARRIVAL_MS);
  });

  await t.test('alice and bob see the same 60-digit safety number and mark each other verified', async () => {
    const a = await safetyNumber(pageA2, 'bob');
    const b = await safetyNumber(pageB, 'alice');
    assert.match(a.digits, /^\d{60}$/);
    assert.equal(a.digits, b.digits, 'the same number on both sides');
    assert.equal(a.groups.length, 12, '12 groups');
    assert.ok(a.groups.every((g) => /^\d{5}$/.test(g)), 'of 5 digits');
    assert.equal(a.groups.join(''), a.digits);
    await a.dialog.getByRole('img', { name: 'QR code of the safety number' }).waitFor();
    assert.ok(((await a.dialog.locator('svg.qr path').getAttribute('d')) ?? '').length > 100, 'the QR code has modules');

    for (const [page, side, other] of [[pageA2, a, 'bob'], [pageB, b, 'alice']] as const) {
      await side.dialog.getByRole('button', { name: 'Mark as verified' }).click();
      await side.dialog.getByText(`You verified ${other}.`).waitFor();
      assert.equal(await side.dialog.getByRole('button', { name: 'Mark as verified' }).count(), 0);
      await side.dialog.getByRole('button', { name: 'Close' }).click();
      await side.dialog.waitFor({ state: 'hidden' });
      const members = page.getByRole('complementary', { name: 'Members' });
      await members.getByRole('listitem').filter({ hasText: other }).getByText('✓ verified').waitFor();
      assert.equal(await members.getByRole('listitem').filter({ hasText: page === pageB ? 'bob' : 'alice' }).getByText('✓ verified').count(), 0, 'not yourself');
      await page.locator('header').getByText('Verified', { exact: true }).waitFor();
    }
    // A reload keeps the badge where it was given.
    await pageA2.reload();
    await openDm(pageA2, 'bob');
    await pageA2.getByRole('complementary', { name: 'Members' }).getByText('✓ verified').waitFor();
  });

  await t.test('no console errors, page errors or CSP violations', () => {
    assert.deepEqual(describeProblems([pageA, pageB, pageA2]), []);
  });
});
