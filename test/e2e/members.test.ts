// Membership in the web client (Chromium, real server): Add people and Leave group, Leave server, Kick and Ban by a server's owner (live, no reload, with a notice), no moderation buttons for plain members, and a banned user refused at a server invite.
import test from 'node:test';
import assert from 'node:assert/strict';
import type { BrowserContext, Page } from 'playwright-core';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { api, createUser, createWorld, uniqueName, type DirectUser, type World } from '../helpers/direct.ts';
import { SESSION_COOKIE } from '../../src/server/auth/tokens.ts';
import { chromiumSkipReason, describeProblems, launchBrowser, messageLog, newContext, newPage, setUpKeys } from '../helpers/browser.ts';

const skip = chromiumSkipReason();

/** Playwright's wait for each step (ms); generous because the machine is shared with benchmarks. */
const STEP_TIMEOUT_MS = 60_000;

/** A page signed in as `who` (the session cookie the server would have set), opened at `path`. */
async function pageFor(browserContext: () => Promise<BrowserContext>, server: TestServer, who: DirectUser, path: string): Promise<Page> {
  const ctx = await browserContext();
  ctx.setDefaultTimeout(STEP_TIMEOUT_MS);
  await ctx.addCookies([{ name: SESSION_COOKIE, value: who.token, domain: '127.0.0.1', path: '/', secure: true, httpOnly: true, sameSite: 'Strict' }]);
  const page = await newPage(ctx);
  await page.goto(server.url + path);
  // Set once per page load: if it is still there later, the page was not reloaded.
  await page.evaluate(() => ((window as unknown as { __sameLoad?: boolean }).__sameLoad = true));
  return page;
}

function nav(page: Page) {
  return page.getByRole('navigation', { name: 'Conversations' });
}

function members(page: Page) {
  return page.getByRole('complementary', { name: 'Members' });
}


async function sameLoad(page: Page): Promise<boolean> {
  return page.evaluate(() => (window as unknown as { __sameLoad?: boolean }).__sameLoad === true);
}

/** Clicks `button` on `page`, then the confirm dialog's `confirm` button. */
async function confirmAction(page: Page, button: string, confirm: string): Promise<void> {
  await page.getByRole('button', { name: button, exact: true }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByRole('button', { name: confirm, exact: true }).click();
  await dialog.waitFor({ state: 'hidden' });
}

test('membership actions in Chromium', { skip, timeout: 600_000 }, async (t) => {
  const server = await startTestServer();
  const world: World = await createWorld(server);
  const { alice, bob, carol } = world;
  await server.store.addServerMember(world.serverId, carol.user.id);
  const browser = await launchBrowser();
  t.after(async () => {
    await browser.close();
    await server.close();
  });
  const browserContext = () => newContext(browser);

  const pageA = await pageFor(browserContext, server, alice, `/c/${world.general}`);
  const pageB = await pageFor(browserContext, server, bob, `/c/${world.general}`);
  const pageC = await pageFor(browserContext, server, carol, `/c/${world.general}`);
  for (const page of [pageA, pageB, pageC]) await page.getByRole('heading', { name: 'general' }).waitFor();
  // Accounts made by the helpers have no end-to-end keys: each sets them up in its browser first.
  for (const page of [pageA, pageB, pageC]) await setUpKeys(page, { timeout: STEP_TIMEOUT_MS });
  let groupId = '';

  await t.test('alice creates a group with bob; bob adds carol with Add people; carol sees it live, and what is sent after she joined', async () => {
    await pageA.getByRole('button', { name: 'New group' }).click();
    const create = pageA.getByRole('dialog', { name: 'New group' });
    await create.getByRole('textbox', { name: 'Group name' }).fill('trio');
    await create.getByRole('textbox', { name: 'Members' }).fill(bob.user.username);
    await create.getByRole('textbox', { name: 'Members' }).press('Enter');
    await create.waitFor({ state: 'hidden' });
    await pageA.getByRole('heading', { name: 'trio' }).waitFor();
    groupId = decodeURIComponent(new URL(pageA.url()).pathname.split('/').pop()!);
    const box = pageA.getByRole('textbox', { name: 'Message' });
    await box.fill('welcome to trio');
    await box.press('Enter');
    await messageLog(pageA).getByRole('article').filter({ hasText: 'welcome to trio' }).waitFor();

    await nav(pageB).getByRole('link', { name: /^trio/ }).click();
    await messageLog(pageB).getByRole('article').filter({ hasText: 'welcome to trio' }).waitFor();

    // Keyboard: the button opens the dialog with the Username field focused; Escape closes it.
    await pageB.getByRole('button', { name: 'Add people' }).focus();
    await pageB.keyboard.press('Enter');
    const add = pageB.getByRole('dialog', { name: 'Add people' });
    const username = add.getByRole('textbox', { name: 'Username' });
    await username.waitFor();
    assert.equal(await username.evaluate((el) => el.matches(':focus')), true, 'the Username field has focus');
    await pageB.keyboard.press('Escape');
    await add.waitFor({ state: 'hidden' });

    // The API's refusal is shown in the dialog.
    await pageB.getByRole('button', { name: 'Add people' }).click();
    await username.fill('nobody-here');
    await username.press('Enter');
    await add.getByRole('alert').filter({ hasText: /\S/ }).waitFor();

    await username.fill(carol.user.username);
    await add.getByRole('button', { name: 'Add to group' }).click();
    await add.waitFor({ state: 'hidden' });
    await members(pageB).getByText(carol.user.username, { exact: true }).waitFor();

    // Carol's list gains the group live (the server's `conversations` frame). What was sent before
    // she joined was encrypted for the members of that time: it shows as such, with the reason.
    await nav(pageC).getByRole('link', { name: /^trio/ }).click();
    await messageLog(pageC).getByRole('article').filter({ hasText: 'Cannot decrypt this message: Sent before this device joined' }).waitFor();
    const boxB = pageB.getByRole('textbox', { name: 'Message' });
    await boxB.fill('hello carol');
    await boxB.press('Enter');
    await messageLog(pageC).getByRole('article').filter({ hasText: 'hello carol' }).waitFor();
    assert.equal(await sameLoad(pageC), true, 'no reload');
  });

  await t.test('carol leaves the group (with a confirm step) and it disappears from her list', async () => {
    await pageC.getByRole('button', { name: 'Leave group', exact: true }).click();
    const dialog = pageC.getByRole('dialog', { name: 'Leave trio?' });
    await dialog.waitFor();
    await pageC.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    assert.equal(await nav(pageC).getByRole('link', { name: /^trio/ }).count(), 1, 'Escape left her in the group');

    await confirmAction(pageC, 'Leave group', 'Leave group');
    await nav(pageC).getByRole('link', { name: /^trio/ }).waitFor({ state: 'detached' });
    assert.notEqual(new URL(pageC.url()).pathname, `/c/${groupId}`, 'the group view is closed');
    await pageC.getByRole('heading', { name: 'trio' }).waitFor({ state: 'detached' });
    await members(pageA).getByText(carol.user.username, { exact: true }).waitFor({ state: 'detached' });
    assert.equal(await pageC.getByRole('alert').filter({ hasText: /no longer have access|removed/ }).count(), 0, 'leaving on purpose needs no notice');
  });

  await t.test('only the owner (and admins) see Kick/Ban; the owner sees no Leave server', async () => {
    for (const page of [pageA, pageB, pageC]) await nav(page).getByRole('link', { name: /^general/ }).click();
    for (const page of [pageA, pageB]) await members(page).getByText(carol.user.username, { exact: true }).waitFor();
    await members(pageA).getByRole('button', { name: `Kick ${carol.user.username}` }).waitFor();
    await members(pageA).getByRole('button', { name: `Ban ${bob.user.username}` }).waitFor();
    assert.equal(await members(pageA).getByRole('button', { name: `Kick ${alice.user.username}` }).count(), 0, 'not yourself');
    assert.equal(await members(pageB).getByRole('button', { name: /^(Kick|Ban) / }).count(), 0, 'a plain member sees no Kick/Ban');
    assert.equal(await pageA.getByRole('button', { name: 'Leave server' }).count(), 0, 'the owner cannot leave');
    await pageB.getByRole('button', { name: 'Leave server' }).waitFor();
  });

  await t.test('a plain member leaves the server (with a confirm step) without a notice', async () => {
    const dave = await createUser(server, uniqueName('dave'));
    await server.store.addServerMember(world.serverId, dave.user.id);
    const pageD = await pageFor(browserContext, server, dave, `/c/${world.general}`);
    await pageD.getByRole('heading', { name: 'general' }).waitFor();
    await confirmAction(pageD, 'Leave server', 'Leave server');
    await nav(pageD).getByRole('link', { name: /^general/ }).waitFor({ state: 'detached' });
    await pageD.getByRole('heading', { name: 'general' }).waitFor({ state: 'detached' });
    assert.equal(await server.store.getServerRole(world.serverId, dave.user.id), null, 'the server no longer lists dave');
    assert.equal(await pageD.getByRole('alert').filter({ hasText: /removed|no longer have access/ }).count(), 0, 'leaving on purpose needs no notice');
    assert.deepEqual(describeProblems([pageD]), []);
    await pageD.context().close();
  });

  await t.test('alice kicks carol: carol loses the server live and her channel view closes with a notice', async () => {
    await messageLog(pageC).waitFor();
    await confirmAction(pageA, `Kick ${carol.user.username}`, `Kick ${carol.user.username}`);
    await members(pageA).getByText(carol.user.username, { exact: true }).waitFor({ state: 'detached' });
    await pageC.getByRole('alert').filter({ hasText: 'You were removed from Home, so #general was closed.' }).waitFor();
    await nav(pageC).getByRole('link', { name: /^general/ }).waitFor({ state: 'detached' });
    await pageC.getByRole('heading', { name: 'general' }).waitFor({ state: 'detached' });
    assert.notEqual(new URL(pageC.url()).pathname, `/c/${world.general}`, 'the channel view is closed');
    assert.equal(await sameLoad(pageC), true, 'no reload');
  });

  await t.test('alice bans bob: the same for bob, and a server invite cannot bring him back', async () => {
    await messageLog(pageB).waitFor();
    await confirmAction(pageA, `Ban ${bob.user.username}`, `Ban ${bob.user.username}`);
    await pageB.getByRole('alert').filter({ hasText: 'You were removed from Home, so #general was closed.' }).waitFor();
    await nav(pageB).getByRole('link', { name: /^general/ }).waitFor({ state: 'detached' });
    await pageB.getByRole('heading', { name: 'general' }).waitFor({ state: 'detached' });
    assert.notEqual(new URL(pageB.url()).pathname, `/c/${world.general}`, 'the channel view is closed');
    assert.equal(await sameLoad(pageB), true, 'no reload');

    const invite = await api(server, alice.cookie, 'POST', `/api/servers/${world.serverId}/invites`);
    assert.equal(invite.status, 200);
    const { token } = invite.json as { token: string };
    await pageB.goto(`${server.url}/invite/${encodeURIComponent(token)}`);
    await pageB.getByRole('alert').filter({ hasText: 'You are banned from this server.' }).waitFor();
    await nav(pageB).getByRole('link', { name: /^trio/ }).waitFor();
    assert.equal(await nav(pageB).getByRole('link', { name: /^general/ }).count(), 0, 'still not in the server');
    const accept = await api(server, bob.cookie, 'POST', `/api/invites/${encodeURIComponent(token)}/accept`);
    assert.equal(accept.status, 403);
    assert.equal((accept.json as { error: { code: string } }).error.code, 'BANNED');
  });

  await t.test('no console errors, page errors or CSP violations', () => {
    // The refused invite and the unknown username are expected 4xx answers, which Chromium logs.
    const problems = describeProblems([pageA, pageB, pageC]).filter((line) => !/status of 40[34]\b/.test(line));
    assert.deepEqual(problems, []);
  });
});
