// <photo-lightbox> and <attachment-chip> in Chromium under the app's CSP: the lightbox opens from the keyboard, traps focus, zooms (buttons, keys, wheel), moves between photos, offers Download and closes with Escape giving focus back; the chip shows name, readable size, type, progress and emits cancel/retry/open.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chromiumSkipReason, describeProblems, newContext } from '../helpers/browser.ts';
import { launchMediaBrowser, openMediaPage, serveMediaPage } from '../fixtures/media/harness.ts';

const skip = chromiumSkipReason();

test('photo lightbox and attachment chip in Chromium', { skip, timeout: 90_000 }, async (t) => {
  const site = await serveMediaPage();
  t.after(() => site.close());
  const browser = await launchMediaBrowser();
  t.after(() => browser.close());
  const context = await newContext(browser);
  const pages: Awaited<ReturnType<typeof openMediaPage>>[] = [];

  await t.test('lightbox: Enter on a photo opens it with focus inside; Tab stays inside; ← → + − and the wheel work; Escape closes and focus returns', async () => {
    const page = await openMediaPage(context, site.origin);
    pages.push(page);
    await page.evaluate(async () => {
      const colours = ['#ff0000', '#00ff00', '#0000ff'];
      const photos = await Promise.all(colours.map(async (colour, i) => {
        const c = new OffscreenCanvas(400, 300);
        const ctx = c.getContext('2d')!;
        ctx.fillStyle = colour;
        ctx.fillRect(0, 0, 400, 300);
        return { src: URL.createObjectURL(await c.convertToBlob({ type: 'image/png' })), alt: `Photo ${i + 1} from alice`, name: `photo-${i + 1}.png` };
      }));
      const root = document.getElementById('root')!;
      const before = document.createElement('button');
      before.textContent = 'Before';
      const opener = document.createElement('button');
      opener.textContent = 'Open photo';
      const lightbox = document.createElement('photo-lightbox');
      lightbox.photos = photos;
      opener.addEventListener('click', () => void lightbox.open(0));
      const w = window as unknown as { closedEvents: number };
      w.closedEvents = 0;
      lightbox.addEventListener('lightbox-closed', () => w.closedEvents++);
      root.append(before, opener, lightbox);
    });
    await page.getByRole('button', { name: 'Open photo' }).focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Photo viewer' });
    await dialog.waitFor();
    await dialog.getByRole('img', { name: 'Photo 1 from alice' }).waitFor();
    const focusInside = () => page.evaluate(() => {
      const lightbox = document.querySelector('photo-lightbox')!;
      return document.activeElement === lightbox && lightbox.shadowRoot!.activeElement !== null;
    });
    assert.equal(await focusInside(), true, 'focus moved into the lightbox');
    assert.equal(await page.evaluate(() => document.querySelector('photo-lightbox')!.shadowRoot!.activeElement?.textContent), 'Close');
    for (let i = 0; i < 12; i++) {
      await page.keyboard.press(i % 3 === 2 ? 'Shift+Tab' : 'Tab');
      assert.equal(await focusInside(), true, `focus still inside after ${i + 1} Tab presses`);
    }
    assert.equal(await dialog.getByText('1 of 3').count(), 1);
    await page.keyboard.press('ArrowRight');
    await dialog.getByRole('img', { name: 'Photo 2 from alice' }).waitFor();
    await dialog.getByText('2 of 3').waitFor();
    await dialog.getByRole('button', { name: 'Next photo' }).click();
    await dialog.getByRole('img', { name: 'Photo 3 from alice' }).waitFor();
    assert.equal(await dialog.getByRole('button', { name: 'Next photo' }).isDisabled(), true, 'no next after the last');
    assert.equal(await page.evaluate(() => document.querySelector('photo-lightbox')!.shadowRoot!.activeElement?.getAttribute('aria-label')), 'Previous photo', 'focus moved off the disabled button');
    await page.keyboard.press('ArrowLeft');
    await dialog.getByRole('img', { name: 'Photo 2 from alice' }).waitFor();
    const download = dialog.getByRole('link', { name: 'Download' });
    assert.equal(await download.getAttribute('download'), 'photo-2.png');
    assert.match((await download.getAttribute('href')) ?? '', /^blob:/);

    const zoom = () => page.evaluate(() => document.querySelector('photo-lightbox')!.zoomLevel);
    const transform = () => page.evaluate(() => document.querySelector('photo-lightbox')!.shadowRoot!.querySelector('img')!.style.transform);
    assert.equal(await dialog.getByRole('button', { name: 'Zoom out' }).isDisabled(), true, 'cannot zoom out below fitted');
    await dialog.getByRole('button', { name: 'Zoom in' }).click();
    assert.equal(await zoom(), 1.25);
    assert.match(await transform(), /scale\(1\.25\)/);
    await page.keyboard.press('+');
    assert.equal(await zoom(), 1.5625);
    await page.keyboard.press('-');
    assert.equal(await zoom(), 1.25);
    await page.keyboard.press('0');
    assert.equal(await zoom(), 1);
    const img = dialog.getByRole('img', { name: 'Photo 2 from alice' });
    const box = (await img.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.wheel(0, -300);
    await page.waitForFunction(() => document.querySelector('photo-lightbox')!.zoomLevel > 2);
    await dialog.getByRole('button', { name: 'Actual size' }).click();
    assert.equal(await zoom(), 1);

    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Open photo', 'focus went back to the opener');
    // The closed event follows the dialog's close; on a busy machine it can come a frame later.
    await page.waitForFunction(() => (window as unknown as { closedEvents: number }).closedEvents >= 1);
    assert.equal(await page.evaluate(() => (window as unknown as { closedEvents: number }).closedEvents), 1);
    // Reopens on the photo asked for.
    await page.evaluate(() => document.querySelector('photo-lightbox')!.open(2));
    await dialog.getByRole('img', { name: 'Photo 3 from alice' }).waitFor();
    await dialog.getByRole('button', { name: 'Close', exact: true }).click();
    await dialog.waitFor({ state: 'hidden' });
  });

  await t.test('attachment chip: readable size and type, progress while uploading, Cancel / Retry / open events, and a failure message', async () => {
    const page = await openMediaPage(context, site.origin);
    pages.push(page);
    await page.evaluate(() => {
      const chip = document.createElement('attachment-chip');
      chip.attachmentId = 'up-1';
      chip.name = 'holiday-report.pdf';
      chip.size = 5.25 * 1024 * 1024;
      chip.mime = 'application/pdf';
      chip.state = 'uploading';
      chip.progress = 0.5;
      const w = window as unknown as { actions: string[] };
      w.actions = [];
      document.addEventListener('attachment-action', (e) => w.actions.push(`${e.action}:${e.attachmentId}`));
      document.getElementById('root')!.append(chip);
    });
    const chip = page.getByRole('group', { name: 'PDF document: holiday-report.pdf, 5.3 MB' });
    await chip.waitFor();
    await chip.getByText('2.6 MB of 5.3 MB').waitFor();
    const bar = chip.getByRole('progressbar', { name: 'Upload progress' });
    assert.equal(await bar.evaluate((p: HTMLProgressElement) => p.value), 0.5);
    await chip.getByRole('button', { name: 'Cancel upload of holiday-report.pdf' }).click();
    await page.evaluate(() => {
      const el = document.querySelector('attachment-chip')!;
      el.state = 'failed';
      el.error = 'The connection was lost';
    });
    await chip.getByText('5.3 MB · The connection was lost').waitFor();
    assert.equal(await chip.getByRole('progressbar').count(), 0);
    await chip.getByRole('button', { name: 'Retry holiday-report.pdf' }).click();
    await page.evaluate(() => {
      const el = document.querySelector('attachment-chip')!;
      el.state = 'downloading';
      el.progress = -1;
    });
    const indeterminate = chip.getByRole('progressbar', { name: 'Download progress' });
    await indeterminate.waitFor();
    assert.equal(await indeterminate.evaluate((p: HTMLProgressElement) => p.hasAttribute('value')), false, 'unknown progress is indeterminate');
    await page.evaluate(() => (document.querySelector('attachment-chip')!.state = 'done'));
    await chip.getByRole('button', { name: 'holiday-report.pdf' }).click();
    assert.deepEqual(await page.evaluate(() => (window as unknown as { actions: string[] }).actions), ['cancel:up-1', 'retry:up-1', 'open:up-1']);
  });

  assert.deepEqual(describeProblems(pages), []);
});
