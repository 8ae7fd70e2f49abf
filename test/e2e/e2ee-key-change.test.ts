// A changed account key in Chromium: bob's account starts over with a new key; alice's DM shows a blocking banner ("<name>'s safety number changed"), her message is refused with the reason and never reaches the server, and Review → Accept new key unblocks the conversation and sends it to bob's new device. And the server as adversary: it adds a device for bob certified by an account key of its own; alice is warned live and sends nothing until she decides.
import test, { type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { startTestServer } from '../helpers/server.ts';
import { createSession, createWorld } from '../helpers/direct.ts';
import { transportFor } from '../e2ee/helpers.ts';
import { MlsClient } from '../../web-client/src/e2ee/mls-client.ts';
import { createAccountKey, createDevice, generateKeyPackages } from '../../web-client/src/crypto/index.ts';
import { SESSION_COOKIE } from '../../src/server/auth/tokens.ts';
import type { ServerFrame } from '../../src/shared/protocol.ts';
import { chromiumSkipReason, describeProblems, launchBrowser, messageLog, newContext, newPage, setUpKeys } from '../helpers/browser.ts';
import { nodeDevice, replaceAccountKey } from './e2ee-helpers.ts';

/** Playwright's wait for a message or a commit to arrive, ms. */
const ARRIVAL_MS = 30_000;


/** A server, alice's browser in her DM with bob (keys set up there), and bob as a Node device. */
async function aliceInDm(t: TestContext) {
  const server = await startTestServer();
  const world = await createWorld(server);
  const browser = await launchBrowser();
  t.after(async () => {
    await browser.close();
    await server.close();
  });
  const ctx = await newContext(browser);
  ctx.setDefaultTimeout(ARRIVAL_MS);
  await ctx.addCookies([{ name: SESSION_COOKIE, value: world.alice.token, domain: '127.0.0.1', path: '/', secure: true, httpOnly: true, sameSite: 'Strict' }]);
  const pageA = await newPage(ctx);
  await pageA.goto(`${server.url}/c/${world.dm}`);
  await setUpKeys(pageA);
  const bob = await nodeDevice(server, world.bob.user.id);
  t.after(() => bob.close());
  return { server, world, bobName: world.bob.user.username, pageA, bob };
}

test('a changed safety number blocks sending until the new key is accepted', { skip: chromiumSkipReason(), timeout: 300_000 }, async (t) => {
  const dm = await aliceInDm(t);
  const { server, world, bobName, pageA } = dm;
  let bob = dm.bob;

  await t.test('before: alice reads bob, no banner', async () => {
    await bob.send(world.dm, 'hello from bob’s first key');
    await messageLog(pageA).getByRole('article').filter({ hasText: 'hello from bob’s first key' }).waitFor();
    assert.equal(await pageA.getByRole('alert').filter({ hasText: 'safety number changed' }).count(), 0);
  });

  await t.test('bob starts over with a new account key: alice sees the blocking banner and cannot send', async () => {
    bob = await replaceAccountKey(server, bob);
    // Reopening the conversation checks its roster against the server's directory.
    await pageA.reload();
    const banner = pageA.getByRole('alert').filter({ hasText: `${bobName}’s safety number changed` });
    await banner.waitFor();
    const before = (await server.store.messagesAfter(world.dm, 0, 1000)).length;
    const box = pageA.getByRole('textbox', { name: 'Message' });
    await box.fill('sent while blocked');
    await box.press('Enter');
    const refused = messageLog(pageA).getByRole('article').filter({ hasText: 'sent while blocked' });
    await refused.getByRole('alert').filter({ hasText: /Not sent:.*/ }).waitFor();
    assert.match(await refused.innerText(), new RegExp(bobName), 'the refusal names whose key changed');
    assert.equal((await server.store.messagesAfter(world.dm, 0, 1000)).length, before, 'nothing reached the server');
  });

  await t.test('Review → Accept new key: the banner goes and the refused message reaches bob’s new device', async () => {
    const head = (await server.store.messagesAfter(world.dm, 0, 1000)).at(-1)?.seq ?? 0;
    bob.ws.send({ t: 'sub', conv: world.dm, since: head });
    await bob.ws.next((f: ServerFrame) => f.t === 'subscribed' && f.conv === world.dm);
    const arrived = bob.ws.next((f: ServerFrame) => f.t === 'msg' && f.conv === world.dm && f.sender === world.alice.user.id, ARRIVAL_MS);
    await pageA.getByRole('button', { name: `Review ${bobName}’s new safety number` }).click();
    const dialog = pageA.getByRole('dialog', { name: `Safety number with ${bobName}` });
    await dialog.getByRole('alert').filter({ hasText: 'account key changed' }).waitFor();
    assert.match((await dialog.getByLabel('Safety number', { exact: true }).getAttribute('data-digits')) ?? '', /^\d{60}$/);
    await dialog.getByRole('button', { name: 'Accept new key' }).click();
    await dialog.getByRole('button', { name: 'Mark as verified' }).waitFor();
    await dialog.getByRole('button', { name: 'Close' }).click();
    await pageA.getByRole('alert').filter({ hasText: 'safety number changed' }).waitFor({ state: 'detached' });
    const frame = await arrived;
    assert.ok(frame.t === 'msg');
    const opened = await bob.codec.decode(world.dm, frame);
    assert.ok(opened.ok && opened.content.kind === 'text', `bob's new device opens it: ${JSON.stringify(opened)}`);
    assert.equal(opened.content.text, 'sent while blocked');
    await messageLog(pageA).getByRole('article').filter({ hasText: 'sent while blocked' }).getByRole('alert').waitFor({ state: 'detached' });
  });

  await t.test('no console errors, page errors or CSP violations', () => {
    assert.deepEqual(describeProblems([pageA]), []);
  });
});

test('the server adds a device for bob under an account key of its own: alice is warned live and sends nothing', { skip: chromiumSkipReason(), timeout: 300_000 }, async (t) => {
  const { server, world, bobName, pageA, bob } = await aliceInDm(t);
  await bob.send(world.dm, 'hello from the real bob');
  await messageLog(pageA).getByRole('article').filter({ hasText: 'hello from the real bob' }).waitFor();

  // The operator mints a session for bob, registers a device and certifies it with a key it made.
  const { cookie } = await createSession(server, world.bob.user.id);
  const forged = new MlsClient(transportFor(server, cookie));
  const { device } = await forged.registerDevice('Web browser, added today');
  const identity = await createDevice(await createAccountKey(), world.bob.user.id, device.id);
  const packages = await generateKeyPackages(identity, 2, { lastResort: true });
  await forged.setCertificate(identity.deviceId, identity.certificate);
  await forged.uploadKeyPackages(packages.filter((p) => !p.lastResort).map((p) => p.keyPackage), packages.find((p) => p.lastResort)?.keyPackage);

  // No reload: the server's own announcement of the device is what brings the warning.
  await pageA.getByRole('alert').filter({ hasText: `${bobName}’s safety number changed` }).waitFor();
  const before = (await server.store.messagesAfter(world.dm, 0, 1000)).length;
  const box = pageA.getByRole('textbox', { name: 'Message' });
  await box.fill('not for the forged device');
  await box.press('Enter');
  await messageLog(pageA).getByRole('article').filter({ hasText: 'not for the forged device' }).getByRole('alert').filter({ hasText: /Not sent:/ }).waitFor();
  assert.equal((await server.store.messagesAfter(world.dm, 0, 1000)).length, before, 'nothing was sent');
  await pageA.getByRole('button', { name: `Review ${bobName}’s new safety number` }).click();
  const dialog = pageA.getByRole('dialog', { name: `Safety number with ${bobName}` });
  await dialog.getByRole('button', { name: 'Accept new key' }).waitFor();
  await dialog.getByRole('button', { name: 'Close' }).click();
  assert.deepEqual(describeProblems([pageA]), []);
});
