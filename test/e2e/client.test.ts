// Web client behaviour in Chromium against a real server, every message an envelope from a Node device of the same client code: history paging without duplicates, hostile text rendered inert, bodies that are not envelopes shown as undecryptable (never as text), typing, Shift+Enter, presence, sign-in errors, the sign-up password minimum, dialogs, the dark default theme and the Theme setting, and the 360 px layout.
import test from 'node:test';
import assert from 'node:assert/strict';
import type { BrowserContext, Page } from 'playwright-core';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { createUser, createWorld, uniqueName, type DirectUser, type World } from '../helpers/direct.ts';
import { inviteToken, registerInvited } from '../helpers/client.ts';
import { SESSION_COOKIE } from '../../src/server/auth/tokens.ts';
import { encodeText } from '../helpers/plain-body.ts';
import { fromBase64 } from '../../src/shared/base64.ts';
import { acceptRecoveryKey, chromiumSkipReason, describeProblems, launchBrowser, messageLog, newContext, newPage, setUpKeys } from '../helpers/browser.ts';
import { allDecoded, nodeDevice, unlockWithRecoveryKey } from './e2ee-helpers.ts';

const skip = chromiumSkipReason();

/** WCAG relative luminance (0 = black, 1 = white) of a computed `rgb(r, g, b)` colour. */
function luminance(rgb: string): number {
  const m = /^rgba?\((\d+),\s*(\d+),\s*(\d+)/.exec(rgb);
  assert.ok(m, `a computed rgb() colour, got ${rgb}`);
  const [r, g, b] = m.slice(1, 4).map((v) => {
    const c = Number(v) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** Computed background colours of the page and of the open conversation (inside chat-app's shadow root). */
function backgrounds(page: Page): Promise<{ body: string; pane: string; theme: string | undefined }> {
  return page.evaluate(() => {
    const pane = document.querySelector('chat-app')?.shadowRoot?.querySelector('conversation-pane');
    return {
      body: getComputedStyle(document.body).backgroundColor,
      pane: pane ? getComputedStyle(pane).backgroundColor : 'missing',
      theme: document.documentElement.dataset.theme,
    };
  });
}

/** Dark: every background is near black (luminance under 0.02, i.e. darker than #262626). */
function assertDark(bg: { body: string; pane: string }, why: string): void {
  assert.ok(luminance(bg.body) < 0.02 && luminance(bg.pane) < 0.02, `${why}: dark backgrounds, got ${JSON.stringify(bg)}`);
}

function assertLight(bg: { body: string; pane: string }, why: string): void {
  assert.ok(luminance(bg.body) > 0.8 && luminance(bg.pane) > 0.8, `${why}: light backgrounds, got ${JSON.stringify(bg)}`);
}
/** More than two history pages (50 each), so paging back has to run at least twice. */
const HISTORY = 120;

/** A browser profile signed in as `who` (the session cookie the server would have set). */
async function signedIn(ctxOf: () => Promise<BrowserContext>, server: TestServer, who: DirectUser): Promise<BrowserContext> {
  const ctx = await ctxOf();
  await ctx.addCookies([{ name: SESSION_COOKIE, value: who.token, domain: '127.0.0.1', path: '/', secure: true, httpOnly: true, sameSite: 'Strict' }]);
  return ctx;
}


test('web client in Chromium', { skip, timeout: 300_000 }, async (t) => {
  const server = await startTestServer();
  const world: World = await createWorld(server);
  const browser = await launchBrowser();
  t.after(async () => {
    await browser.close();
    await server.close();
  });
  const context = (opts?: Parameters<typeof newContext>[1]) => () => newContext(browser, opts);

  // Alice's browser gets keys first, so bob's Node device adds it to each conversation's group.
  const pageA = await newPage(await signedIn(context(), server, world.alice));
  await pageA.goto(`${server.url}/c/${world.general}`);
  await setUpKeys(pageA);
  const bob = await nodeDevice(server, world.bob.user.id);
  t.after(() => bob.close());

  // Two days of history, then hostile text, all real envelopes; then two bodies that are not.
  const yesterday = Date.now() - 86_400_000;
  for (let i = 1; i <= HISTORY; i++) {
    await bob.append(server, world.general, `history ${i}`, i <= 60 ? yesterday + i * 1000 : Date.now() - (HISTORY - i) * 1000);
  }
  const hostile = [
    '<img src=x onerror="window.__pwned=1">',
    '<script>window.__pwned=2</script>',
    'javascript:window.__pwned=3',
    '[click](javascript:window.__pwned=4) https://example.org/ok?a=1&b=2.',
  ];
  for (const text of hostile) await bob.append(server, world.general, text);
  await server.store.appendMessage({ convId: world.general, senderId: world.bob.user.id, ts: Date.now(), body: new Uint8Array([0xff, 0x00, 0x7b]) });
  await server.store.appendMessage({ convId: world.general, senderId: world.bob.user.id, ts: Date.now(), body: fromBase64(encodeText('plaintext the server made up')) });
  await bob.codec.idle();
  await pageA.reload();

  await t.test('history loads on open and pages back on scroll, without duplicates', async () => {
    await messageLog(pageA).getByRole('article').filter({ hasText: 'history 120' }).waitFor({ timeout: 30_000 });
    const articles = messageLog(pageA).getByRole('article');
    // Page back until the start (not until "history 1" shows: it may still be decrypting).
    const atStart = async () => (await messageLog(pageA).getByText('This is the beginning of the conversation.').count()) > 0;
    for (let round = 0; round < 5 && !(await atStart()); round++) {
      const shown = await articles.count();
      await messageLog(pageA).evaluate((el) => el.scrollTo({ top: 0 }));
      await articles.nth(shown).waitFor({ timeout: 30_000 });
    }
    await allDecoded(pageA, world.general);
    await articles.filter({ hasText: /history 1(?!\d)/ }).waitFor();
    const texts = await messageLog(pageA).getByRole('article').allInnerTexts();
    const history = texts.map((x) => /history (\d+)/.exec(x)?.[1]).filter(Boolean);
    assert.equal(history.length, HISTORY, 'every stored message shows once');
    assert.equal(new Set(history).size, HISTORY, 'no duplicates');
    assert.deepEqual(history.map(Number), [...Array(HISTORY).keys()].map((i) => i + 1), 'in order');
    assert.match(await messageLog(pageA).innerText(), /beginning of the conversation/);
    assert.ok((await messageLog(pageA).getByRole('separator').count()) >= 2, 'a day separator for each day');
  });

  await t.test('hostile text stays text; only http(s) URLs become links', async () => {
    for (const text of hostile) await messageLog(pageA).getByRole('article').filter({ hasText: text.slice(0, 20) }).first().waitFor();
    assert.equal(await pageA.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
    const links = messageLog(pageA).getByRole('link');
    const hrefs = await links.evaluateAll((as) => as.map((a) => (a as HTMLAnchorElement).href));
    assert.deepEqual(hrefs, ['https://example.org/ok?a=1&b=2'], 'one link, trailing dot excluded, no javascript: link');
  });

  await t.test('bodies that are not envelopes show as undecryptable with the reason, never as text', async () => {
    const refused = messageLog(pageA).getByRole('article').filter({ hasText: /Cannot decrypt this message: \S/ });
    await refused.nth(1).waitFor();
    assert.equal(await refused.count(), 2, 'the binary body and the plaintext one');
    assert.equal(await messageLog(pageA).getByText('plaintext the server made up').count(), 0);
  });

  // Bob's browser unlocks the keys his Node device made and reads the history from before it joined.
  const pageB = await newPage(await signedIn(context(), server, world.bob));
  await pageB.goto(`${server.url}/c/${world.general}`);
  await unlockWithRecoveryKey(pageB, bob.recoveryKey);
  await messageLog(pageB).getByRole('article').filter({ hasText: 'history 120' }).waitFor({ timeout: 30_000 });

  await t.test('a conversation opened on load is marked read and stays read after the socket opens', async () => {
    // Few enough messages that nothing scrolls: only opening the conversation can mark it read.
    for (let i = 1; i <= 3; i++) await bob.append(server, world.group, `group note ${i}`);
    await bob.codec.idle();
    // Another tab of alice's browser (a new profile would need her recovery key).
    const page = await newPage(pageA.context());
    // Hold the socket back until the history is on screen, so the read happens while it is down.
    let release!: () => void;
    const historyShown = new Promise<void>((resolve) => (release = resolve));
    await page.routeWebSocket(/\/ws$/, async (ws) => {
      await historyShown;
      ws.connectToServer();
    });
    await page.goto(`${server.url}/c/${world.group}`);
    await messageLog(page).getByRole('article').filter({ hasText: 'group note 3' }).waitFor();
    release();
    await page.waitForFunction(() => (document.querySelector('chat-app') as unknown as { store: { connection: string } }).store.connection === 'open');
    // The socket's open triggers a fresh conversation list; let it (and the read it causes) finish.
    await page.waitForLoadState('networkidle');
    const unread = await page.evaluate((id) => (document.querySelector('chat-app') as unknown as { store: { unreadOf(c: string): number } }).store.unreadOf(id), world.group);
    assert.equal(unread, 0, 'no unread badge on the open conversation');
    const read = await server.store.getLastRead(world.alice.user.id, [world.group]);
    assert.equal(read.get(world.group), 3, 'the server has the newest message as read');
    await page.close();
  });

  await t.test('typing indicator, Shift+Enter new line, Enter sends', async () => {
    const box = pageB.getByRole('textbox', { name: 'Message' });
    await box.click();
    await box.pressSequentially('line one');
    await pageA.getByText(`${world.bob.user.username} is typing…`).waitFor({ timeout: 2_000 });
    await box.press('Shift+Enter');
    await box.pressSequentially('line two');
    await box.press('Enter');
    // Bob's browser may still be waiting to be added to the group's encryption; then it sends.
    const article = messageLog(pageA).getByRole('article').filter({ hasText: 'line two' });
    await article.waitFor({ timeout: 30_000 });
    assert.match(await article.innerText(), /line one\nline two/);
    assert.equal(await box.inputValue(), '', 'the composer is cleared after sending');
    await pageA.getByText('is typing…').waitFor({ state: 'hidden', timeout: 1_000 });
  });

  await t.test('after a dropped connection the replay fills the gap exactly once', async () => {
    const articles = messageLog(pageA).getByRole('article');
    const before = await articles.count();
    // Cut the socket and keep the browser offline so nothing arrives live.
    await pageA.context().setOffline(true);
    await pageA.evaluate(() => {
      const app = document.querySelector('chat-app') as unknown as { store: { socket: { ws: WebSocket | null } } };
      app.store.socket.ws?.close();
    });
    await pageA.getByRole('status').filter({ hasText: 'Reconnecting' }).waitFor();
    for (let i = 1; i <= 5; i++) await bob.send(world.general, `while away ${i}`);
    assert.equal(await articles.count(), before, 'nothing arrived while offline');
    assert.equal(await pageA.getByRole('status').filter({ hasText: 'Reconnecting' }).count(), 1, 'still disconnected');
    await pageA.context().setOffline(false);
    await articles.filter({ hasText: 'while away 5' }).waitFor({ timeout: 20_000 });
    await pageA.getByRole('status').filter({ hasText: 'Reconnecting' }).waitFor({ state: 'hidden' });
    const texts = await articles.allInnerTexts();
    assert.equal(texts.length, before + 5, 'five new messages, none twice');
    const away = texts.map((x) => /while away (\d)/.exec(x)?.[1]).filter(Boolean);
    assert.deepEqual(away, ['1', '2', '3', '4', '5']);
  });

  await t.test('presence dots follow the other person', async () => {
    await bob.close();
    const members = pageA.getByRole('complementary', { name: 'Members' });
    await members.getByText(new RegExp(`${world.bob.user.username}\\s*online`)).waitFor({ timeout: 2_000 });
    await pageB.close();
    await members.getByText(new RegExp(`${world.bob.user.username}\\s*offline`)).waitFor({ timeout: 5_000 });
  });

  await t.test('keyboard: the skip link is the first stop and lands in the composer', async () => {
    await pageA.reload();
    await messageLog(pageA).getByRole('article').first().waitFor();
    await pageA.keyboard.press('Tab');
    const skipLink = pageA.getByRole('button', { name: 'Skip to message composer' });
    assert.equal(await skipLink.evaluate((el) => el.matches(':focus-visible')), true, 'focused, with a visible ring');
    await pageA.keyboard.press('Enter');
    const box = pageA.getByRole('textbox', { name: 'Message' });
    assert.equal(await box.evaluate((el) => el.matches(':focus')), true);
  });

  await t.test('dialogs: keyboard reachable, Escape closes, errors from the API are shown', async () => {
    await pageA.getByRole('button', { name: 'New direct message' }).focus();
    await pageA.keyboard.press('Enter');
    const dialog = pageA.getByRole('dialog', { name: 'New direct message' });
    await dialog.waitFor();
    await pageA.keyboard.type('nobody-here');
    await pageA.keyboard.press('Enter');
    await dialog.getByRole('alert').filter({ hasText: /\S/ }).waitFor();
    await pageA.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
  });

  await t.test('create a server, add a channel, invite to that server', async () => {
    await pageA.getByRole('button', { name: 'Create server' }).click();
    const create = pageA.getByRole('dialog', { name: 'Create server' });
    await create.getByRole('textbox', { name: 'Server name' }).fill('Book club');
    await create.getByRole('textbox', { name: 'Server name' }).press('Enter');
    await create.waitFor({ state: 'hidden' });
    await pageA.getByRole('heading', { name: 'general' }).waitFor();
    const nav = pageA.getByRole('navigation', { name: 'Conversations' });
    await nav.getByText('Book club').waitFor();
    await nav.getByRole('button', { name: 'Add channel to Book club' }).click();
    const add = pageA.getByRole('dialog', { name: 'Add channel' });
    await add.getByRole('textbox', { name: 'Channel name' }).fill('novels');
    await add.getByRole('button', { name: 'Add channel' }).click();
    await pageA.getByRole('heading', { name: 'novels' }).waitFor();
    await nav.getByRole('link', { name: 'novels' }).waitFor();
    await pageA.getByRole('button', { name: 'Invite people' }).click();
    const link = await pageA.getByRole('textbox', { name: 'Invite link' }).inputValue();
    const token = new URL(link).pathname.split('/').pop()!;
    const info = (await (await fetch(`${server.url}/api/invites/${token}`)).json()) as { serverName?: string };
    assert.equal(info.serverName, 'Book club', 'the invite is for the open conversation\'s server');
    await pageA.keyboard.press('Escape');
    await pageA.goto(`${server.url}/c/${world.general}`);
    await messageLog(pageA).getByRole('article').filter({ hasText: 'while away 5' }).waitFor();
  });

  await t.test('sign in with Username/Password, wrong password shows the API message', async () => {
    const dave = await registerInvited(server, 'dave', 'dave has a long passphrase');
    const page = await newPage(await newContext(browser));
    await page.goto(`${server.url}/signin`);
    await page.getByRole('textbox', { name: 'Username' }).fill('dave');
    await page.getByLabel('Password').fill('not the passphrase');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'Wrong username or password.' }).waitFor({ timeout: 10_000 });
    await page.getByLabel('Password').fill(dave.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation', { name: 'Conversations' }).waitFor({ timeout: 10_000 });

    // A second device signs the first one out.
    const other = await newPage(await newContext(browser));
    await other.goto(`${server.url}/signin`);
    await other.getByRole('textbox', { name: 'Username' }).fill('dave');
    await other.getByLabel('Password').fill(dave.password);
    await other.getByRole('button', { name: 'Sign in' }).click();
    await other.getByRole('button', { name: 'End other sessions' }).click();
    await other.getByRole('alert').filter({ hasText: 'Your other sessions were signed out.' }).waitFor();
    await page.getByRole('button', { name: 'Sign in' }).waitFor({ timeout: 2_000 });
    await page.getByText('You were signed out.').waitFor();

    await other.getByRole('button', { name: 'Sign out', exact: true }).click();
    await other.getByRole('button', { name: 'Sign in' }).waitFor();
    await other.reload();
    await other.getByRole('button', { name: 'Sign in' }).waitFor();
    assert.deepEqual(describeProblems([page, other]).filter((l) => l.startsWith('CSP')), []);
  });

  await t.test('sign-up refuses a password under 8 characters with an inline message', async () => {
    const page = await newPage(await newContext(browser));
    await page.goto(`${server.url}/invite/${await inviteToken(server)}`);
    await page.getByRole('textbox', { name: 'Username' }).fill('erin');
    const password = page.getByLabel('Password');
    await password.fill('1234567');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('alert').filter({ hasText: 'Passwords need at least 8 characters.' }).waitFor();
    assert.equal(await password.getAttribute('aria-invalid'), 'true');
    assert.equal(await password.evaluate((el) => el.matches(':focus')), true, 'focus goes back to the password');
    assert.equal(await page.getByRole('navigation', { name: 'Conversations' }).count(), 0, 'no account was created');
    await password.fill('12345678');
    await page.getByRole('alert').filter({ hasText: 'at least 8 characters' }).waitFor({ state: 'hidden' });
    await page.getByRole('button', { name: 'Create account' }).click();
    await acceptRecoveryKey(page);
    await page.getByRole('navigation', { name: 'Conversations' }).waitFor({ timeout: 20_000 });
    assert.deepEqual(describeProblems([page]), []);
  });

  // Layout and theme need no keys: an account without them still sees the chat (and why it cannot send).
  const frank = await createUser(server, uniqueName('frank'));
  await server.store.addServerMember(world.serverId, frank.user.id);
  await server.store.getOrCreateDm(frank.user.id, world.bob.user.id);

  await t.test('an account without keys cannot send: the composer says why and offers Set up keys; nothing is shown as plaintext', async () => {
    const page = await newPage(await signedIn(context(), server, frank));
    await page.goto(`${server.url}/c/${world.general}`);
    const why = page.getByRole('status').filter({ hasText: 'no end-to-end keys yet, so this browser can neither send nor read messages' });
    await why.waitFor();
    await why.getByRole('button', { name: 'Set up keys' }).waitFor();
    assert.equal(await page.getByRole('textbox', { name: 'Message' }).count(), 0, 'no composer');
    assert.equal(await page.getByRole('note', { name: 'End-to-end encrypted' }).count(), 0, 'no lock while this browser cannot encrypt');
    await messageLog(page).getByRole('article').first().waitFor();
    await allDecoded(page, world.general);
    assert.equal(await messageLog(page).getByRole('article').filter({ hasText: /history \d/ }).count(), 0, 'no message text shown');
    assert.ok((await messageLog(page).getByRole('article').filter({ hasText: 'Cannot decrypt this message: Your account has no end-to-end keys yet' }).count()) > 0);
    assert.deepEqual(describeProblems([page]), []);
    await page.context().close();
  });

  await t.test('theme: dark by default on a light system; Light persists across reload; Match system follows the system', async () => {
    const page = await newPage(await signedIn(context({ colorScheme: 'light' }), server, frank));
    await page.goto(`${server.url}/c/${world.general}`);
    await messageLog(page).waitFor();
    assert.equal(await page.evaluate(() => matchMedia('(prefers-color-scheme: light)').matches), true, 'the browser reports a light system');
    let bg = await backgrounds(page);
    assert.equal(bg.theme, 'dark');
    assertDark(bg, 'default');

    const theme = page.getByRole('combobox', { name: 'Theme' });
    assert.equal(await theme.inputValue(), 'dark');
    await theme.selectOption({ label: 'Light' });
    bg = await backgrounds(page);
    assert.equal(bg.theme, 'light');
    assertLight(bg, 'after choosing Light');

    await page.reload();
    await messageLog(page).waitFor();
    assertLight(await backgrounds(page), 'Light after a reload');
    assert.equal(await theme.inputValue(), 'light', 'the control shows the stored choice');

    await theme.selectOption({ label: 'Match system' });
    assertLight(await backgrounds(page), 'Match system on a light system');
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.waitForFunction(() => document.documentElement.dataset.theme === 'dark');
    assertDark(await backgrounds(page), 'Match system after the system turned dark');

    // A second tab of the same browser follows the choice, control included.
    const other = await newPage(page.context());
    await other.goto(`${server.url}/c/${world.general}`);
    await messageLog(other).waitFor();
    const otherTheme = other.getByRole('combobox', { name: 'Theme' });
    assert.equal(await otherTheme.inputValue(), 'system');
    await theme.selectOption({ label: 'Dark' });
    await other.waitForFunction(() => document.documentElement.dataset.theme === 'dark');
    await other.waitForFunction(() => {
      const select = document.querySelector('chat-app')?.shadowRoot?.querySelector('select');
      return select?.value === 'dark';
    });
    await other.close();

    await page.emulateMedia({ colorScheme: 'light' });
    await page.reload();
    await messageLog(page).waitFor();
    assertDark(await backgrounds(page), 'Dark again after a reload on a light system');
    assert.deepEqual(describeProblems([page]), []);
  });

  await t.test('360 px: the conversation list hides behind a toggle', async () => {
    const page = await newPage(await signedIn(context({ width: 360, height: 740 }), server, frank));
    await page.goto(`${server.url}/c/${world.general}`);
    await messageLog(page).waitFor();
    const nav = page.getByRole('navigation', { name: 'Conversations' });
    assert.equal(await nav.isVisible(), false, 'hidden at first');
    await page.getByRole('button', { name: 'Show conversations' }).click();
    await nav.waitFor();
    await nav.getByRole('link', { name: world.bob.user.username }).click();
    await nav.waitFor({ state: 'hidden' });
    await page.getByRole('heading', { name: world.bob.user.username }).waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
    assert.equal(overflow, false, 'no horizontal scrolling at 360 px');
    assert.deepEqual(describeProblems([page]), []);
  });

  // The one failed request this test caused on purpose: a DM with a username that does not exist.
  // And the WebSocket failures while it was offline on purpose.
  const unexpected = describeProblems([pageA]).filter(
    (l) => !/status of 404 .*\/api\/dms\)$/.test(l) && !/WebSocket connection to .* failed|net::ERR_INTERNET_DISCONNECTED/.test(l),
  );
  assert.deepEqual(unexpected, [], 'no console errors or CSP violations');
});
