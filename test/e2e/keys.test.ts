// End-to-end keys in Chromium: sign-up shows the recovery key once (copy, optional passphrase, same key after a reload) and the chat is end-to-end encrypted (the stored body is an envelope); a second browser unlocked with the recovery key reads the earlier message; a second browser unlocks with the recovery key after wrong ones are refused; a third with the passphrase; signing in again needs no key; a device removed in Your devices must unlock again; the recovery key and passphrase are nowhere in the data dir.
import test from 'node:test';
import assert from 'node:assert/strict';
import type { BrowserContext, Page } from 'playwright-core';
import { startTestServer } from '../helpers/server.ts';
import { api } from '../helpers/client.ts';
import { ensureSetupLink } from '../../src/server/invites.ts';
import { SESSION_COOKIE } from '../../src/server/auth/tokens.ts';
import { encodeRecoveryKey, newBackupKey, decodeRecoveryKey } from '../../web-client/src/crypto/index.ts';
import { fromBase64 } from '../../src/shared/base64.ts';
import { acceptRecoveryKey, chromiumSkipReason, describeProblems, launchBrowser, messageLog, newContext, newPage } from '../helpers/browser.ts';
import { filesUnder } from '../helpers/files.ts';

const USERNAME = 'alice';
const PASSWORD = 'alice: correct horse battery staple';
const PASSPHRASE = 'a backup passphrase of some length';
/** Argon2id (64 MiB, t=3) in the Worker: ~2 s idle, 10 s or more on the loaded test machine. */
const ARGON2_MS = 90_000;


async function cookieOf(context: BrowserContext): Promise<string> {
  const c = (await context.cookies()).find((x) => x.name === SESSION_COOKIE);
  assert.ok(c, 'signed in');
  return `${c.name}=${c.value}`;
}

async function signIn(page: Page, url: string): Promise<void> {
  await page.goto(`${url}/signin`);
  await page.getByRole('textbox', { name: 'Username' }).fill(USERNAME);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
}


test('end-to-end keys in Chromium', { skip: chromiumSkipReason(), timeout: 300_000 }, async (t) => {
  const server = await startTestServer();
  const browser = await launchBrowser();
  t.after(async () => {
    await browser.close();
    await server.close();
  });
  const setup = await ensureSetupLink(server.store, server.url, 1);
  assert.ok(setup);
  const contextA = await newContext(browser);
  const pageA = await newPage(contextA);
  const pages = [pageA];
  let recoveryKey = '';

  await t.test('sign-up shows the recovery key once; Continue (with a passphrase) leads to the chat, which is end-to-end encrypted', async () => {
    await pageA.goto(`${server.url}/setup/${setup.token}`);
    await pageA.getByRole('textbox', { name: 'Username' }).fill(USERNAME);
    await pageA.getByLabel('Password').fill(PASSWORD);
    await pageA.getByRole('button', { name: 'Create account' }).click();
    await pageA.getByRole('heading', { name: 'Save your recovery key' }).waitFor({ timeout: 20_000 });
    const shown = await pageA.getByLabel('Recovery key', { exact: true }).inputValue();
    // Closing or reloading before Continue shows the same key again rather than losing it.
    await pageA.reload();
    assert.equal(await pageA.getByLabel('Recovery key', { exact: true }).inputValue({ timeout: 20_000 }), shown);
    await contextA.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    await pageA.getByRole('button', { name: 'Copy recovery key' }).click();
    await pageA.getByRole('status').filter({ hasText: 'Copied.' }).waitFor();
    assert.equal(await pageA.evaluate(() => navigator.clipboard.readText()), shown);
    await pageA.getByLabel('Backup passphrase (optional)').fill('too short');
    await pageA.getByRole('button', { name: 'Continue', exact: true }).click();
    await pageA.getByRole('alert').filter({ hasText: 'at least 12 characters' }).waitFor();
    recoveryKey = await acceptRecoveryKey(pageA, { passphrase: PASSPHRASE });
    assert.equal(recoveryKey, shown);
    assert.match(recoveryKey, /^([0-9A-Z]{4}-){13}[0-9A-Z]{4}$/);
    await pageA.getByRole('navigation', { name: 'Conversations' }).waitFor({ timeout: ARGON2_MS });
    await pageA.getByRole('heading', { name: 'general' }).waitFor();
    await pageA.getByRole('note', { name: 'End-to-end encrypted' }).waitFor();
    await pageA.getByRole('textbox', { name: 'Message' }).fill('hello from the first browser');
    await pageA.getByRole('button', { name: 'Send' }).click();
    const sent = messageLog(pageA).getByRole('article').filter({ hasText: 'hello from the first browser' });
    await sent.waitFor();
    await sent.getByText('Sending…').waitFor({ state: 'detached', timeout: 20_000 });
    // The stored body is a content envelope (version byte 1), not the text.
    const conv = new URL(pageA.url()).pathname.split('/').pop()!;
    const history = await api(server, await cookieOf(contextA), 'GET', `/api/conversations/${conv}/messages?limit=5`);
    const bodies = history.body.messages.map((m: { body: string }) => Buffer.from(fromBase64(m.body)));
    assert.equal(bodies.length, 1);
    assert.equal(bodies[0][0], 1, 'envelope version byte');
    assert.ok(!bodies[0].includes(Buffer.from('hello from the first browser')), 'the text is not in the stored body');
    // Reloading keeps the keys: straight back into the chat, which still opens the message.
    await pageA.reload();
    await pageA.getByRole('note', { name: 'End-to-end encrypted' }).waitFor({ timeout: 20_000 });
    await messageLog(pageA).getByRole('article').filter({ hasText: 'hello from the first browser' }).waitFor({ timeout: 20_000 });
  });

  await t.test('a second browser: a wrong recovery key is refused, then the right one adds a device', async () => {
    const contextB = await newContext(browser);
    const pageB = await newPage(contextB);
    pages.push(pageB);
    await signIn(pageB, server.url);
    await pageB.getByRole('heading', { name: 'Unlock your keys on this browser' }).waitFor({ timeout: 20_000 });
    const field = pageB.getByRole('textbox', { name: 'Recovery key' });
    await field.fill(await encodeRecoveryKey(newBackupKey()));
    await pageB.getByRole('button', { name: 'Unlock' }).click();
    await pageB.getByRole('alert').filter({ hasText: 'does not unlock this account' }).waitFor({ timeout: 20_000 });
    await field.fill(recoveryKey.slice(0, 20));
    await pageB.getByRole('button', { name: 'Unlock' }).click();
    await pageB.getByRole('alert').filter({ hasText: 'not a valid recovery key' }).waitFor();
    assert.equal((await api(server, await cookieOf(contextB), 'GET', '/api/mls/devices')).body.devices.length, 1, 'failed tries add no device');
    await field.fill(recoveryKey.toLowerCase().replace(/-/g, ' '));
    await pageB.getByRole('button', { name: 'Unlock' }).click();
    await pageB.getByRole('navigation', { name: 'Conversations' }).waitFor({ timeout: 20_000 });
    // Sent before this browser had a device: it opens through the epoch-key archive.
    await messageLog(pageB).getByRole('article').filter({ hasText: 'hello from the first browser' }).waitFor({ timeout: 20_000 });
    const devices = (await api(server, await cookieOf(contextB), 'GET', '/api/mls/devices')).body.devices;
    assert.equal(devices.length, 2, 'the server lists two devices for alice');
    assert.ok(devices.every((d: { certificate: string }) => d.certificate.length > 0), 'both certified');

    await pageB.getByRole('button', { name: 'Your devices' }).click();
    const dialog = pageB.getByRole('dialog', { name: 'Your devices' });
    await dialog.getByRole('listitem').filter({ hasText: 'this browser' }).waitFor();
    assert.equal(await dialog.getByRole('listitem').count(), 2);
    await dialog.getByRole('button', { name: 'Close' }).click();

    // Signing out and in again on a browser that holds the keys: no key needed, no new device.
    await pageB.getByRole('button', { name: 'Sign out', exact: true }).click();
    await signIn(pageB, server.url);
    await pageB.getByRole('note', { name: 'End-to-end encrypted' }).waitFor({ timeout: 20_000 });
    const again = (await api(server, await cookieOf(contextB), 'GET', '/api/mls/devices')).body.devices;
    assert.equal(again.length, 2);
    assert.equal(again.filter((d: { current: boolean }) => d.current).length, 1, 'the device is bound to the new session');
  });

  await t.test('a third browser unlocks with the backup passphrase; removed elsewhere, it is signed out and must unlock again', async () => {
    const contextC = await newContext(browser);
    const pageC = await newPage(contextC);
    pages.push(pageC);
    await signIn(pageC, server.url);
    await pageC.getByRole('button', { name: 'Use the backup passphrase instead' }).click({ timeout: 20_000 });
    await pageC.getByLabel('Backup passphrase').fill(PASSPHRASE);
    // The background KeyPackage check after unlocking must be done before the device is removed below.
    const refilled = pageC.waitForResponse((r) => new URL(r.url()).pathname === '/api/mls/key-packages' && r.request().method() === 'GET', { timeout: ARGON2_MS });
    await pageC.getByRole('button', { name: 'Unlock' }).click();
    await pageC.getByRole('navigation', { name: 'Conversations' }).waitFor({ timeout: ARGON2_MS });
    assert.equal((await refilled).status(), 200);
    const devices = (await api(server, await cookieOf(contextC), 'GET', '/api/mls/devices')).body.devices;
    assert.equal(devices.length, 3);
    const cDevice: string = devices.find((d: { current: boolean }) => d.current).id;

    // Removed from the first browser (as for a lost one), it needs the recovery key again.
    await pageA.getByRole('button', { name: 'Your devices' }).click();
    const dialog = pageA.getByRole('dialog', { name: 'Your devices' });
    await dialog.getByRole('button', { name: `Remove device ${cDevice.slice(0, 8)}` }).click();
    await dialog.getByRole('button', { name: `Confirm removing device ${cDevice.slice(0, 8)}` }).click();
    await dialog.getByRole('button', { name: /^Remove device/ }).first().waitFor();
    assert.equal(await dialog.getByRole('listitem').count(), 2);
    await dialog.getByRole('button', { name: 'Close' }).click();
    // Removing it signed its session out; signing in again, the keys kept there no longer count.
    await pageC.getByText('You were signed out.').waitFor({ timeout: 20_000 });
    await signIn(pageC, server.url);
    await pageC.getByRole('heading', { name: 'Unlock your keys on this browser' }).waitFor({ timeout: 20_000 });
    assert.equal((await api(server, await cookieOf(contextC), 'GET', '/api/mls/devices')).body.devices.length, 2, 'not re-registered on its own');
  });

  await t.test('the recovery key and the passphrase are nowhere in the data dir; no console errors or CSP violations', async () => {
    const bk = Buffer.from(await decodeRecoveryKey(recoveryKey));
    const needles = [recoveryKey, recoveryKey.replace(/-/g, ''), recoveryKey.replace(/-/g, ' '), PASSPHRASE].map((s) => Buffer.from(s));
    needles.push(bk, Buffer.from(bk.toString('base64')), Buffer.from(bk.toString('base64url')));
    const files = filesUnder(server.dir);
    assert.ok(files.length > 0, 'the data dir has files to search');
    for (const f of files) for (const n of needles) assert.ok(!f.bytes.includes(n), `${f.path} must not contain the recovery secret`);
    assert.deepEqual(describeProblems(pages), []);
  });
});
