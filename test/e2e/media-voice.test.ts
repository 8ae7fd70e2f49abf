// Voice messages in Chromium with the fake microphone: <voice-recorder> records ~2 s (duration within 0.5 s, a waveform that is not flat, live time and level), Stop, Cancel, Escape and a too-short press emit nothing; <voice-player> plays it (time advances), seeks and changes speed, also streamed from a MediaSource; a refused microphone shows a message a person understands.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { chromiumSkipReason, describeProblems, newContext } from '../helpers/browser.ts';
import { launchMediaBrowser, openMediaPage, serveMediaPage } from '../fixtures/media/harness.ts';

const skip = chromiumSkipReason();

interface RecordingSummary {
  mime: string;
  size: number;
  durationMs: number;
  waveform: number[];
}

/** Puts a <voice-recorder> on the page; its recordings land in window.recordings. */
async function addRecorder(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { recordings: unknown[]; recordingBlobs: Blob[] };
    w.recordings = [];
    w.recordingBlobs = [];
    const recorder = document.createElement('voice-recorder');
    recorder.addEventListener('voice-recorded', (e) => {
      const { blob, mime, durationMs, waveform } = e.recording;
      w.recordingBlobs.push(blob);
      w.recordings.push({ mime, size: blob.size, durationMs, waveform });
    });
    document.getElementById('root')!.append(recorder);
  });
}

const recordings = (page: Page) => page.evaluate(() => (window as unknown as { recordings: RecordingSummary[] }).recordings);

test('voice messages in Chromium', { skip, timeout: 120_000 }, async (t) => {
  const site = await serveMediaPage();
  t.after(() => site.close());
  const browser = await launchMediaBrowser({ fakeMicrophone: true });
  t.after(() => browser.close());
  const context = await newContext(browser);
  await context.grantPermissions(['microphone'], { origin: site.origin });
  const page = await openMediaPage(context, site.origin);
  await addRecorder(page);
  const record = page.getByRole('button', { name: 'Record voice message' });

  await t.test('Record, then a second press 2 s later: about 2000 ms, Opus in WebM, a waveform with shape; time and level shown while recording', async () => {
    await record.click();
    await page.getByRole('timer', { name: 'Recording time' }).waitFor();
    assert.equal(await record.getAttribute('aria-pressed'), 'true');
    // The fake device plays a tone: the level meter must move off zero.
    await page.waitForFunction(() => {
      const meter = document.querySelector('voice-recorder')?.shadowRoot?.querySelector('meter');
      return meter !== null && meter !== undefined && meter.value > 0;
    });
    await page.getByRole('timer', { name: 'Recording time' }).filter({ hasText: '0:01' }).waitFor();
    await record.click();
    await page.waitForFunction(() => (window as unknown as { recordings: unknown[] }).recordings.length === 1);
    assert.equal(await record.getAttribute('aria-pressed'), 'false');

    // The length is what is measured, so the presses are timed in the page (Playwright's clicks
    // take a few hundred ms on a loaded machine): press, 2000 ms, press.
    const pressedMs = await page.evaluate(async () => {
      const button = document.querySelector('voice-recorder')!.shadowRoot!.querySelector<HTMLButtonElement>('#record')!;
      button.click();
      const started = performance.now();
      await new Promise((resolve) => setTimeout(resolve, 2000));
      button.click();
      return performance.now() - started;
    });
    await page.waitForFunction(() => (window as unknown as { recordings: unknown[] }).recordings.length === 2);
    const rec = (await recordings(page))[1];
    assert.match(rec.mime, /^audio\/webm/);
    assert.ok(rec.size > 1000, `${rec.size} bytes`);
    assert.ok(Math.abs(rec.durationMs - 2000) <= 500, `durationMs ${rec.durationMs} (presses ${Math.round(pressedMs)} ms apart)`);
    assert.equal(rec.waveform.length, 64);
    assert.ok(rec.waveform.every((v) => Number.isInteger(v) && v >= 0 && v <= 255));
    assert.equal(Math.max(...rec.waveform), 255);
    assert.ok(new Set(rec.waveform).size > 4, `waveform is not flat: ${rec.waveform}`);
    t.diagnostic(`2 s voice message: ${rec.size} bytes ${rec.mime}, decoded ${rec.durationMs} ms, presses ${Math.round(pressedMs)} ms apart`);
  });

  await t.test('the Stop button ends a recording too; Cancel throws one away and a press-and-release is refused as too short, both emitting nothing', async () => {
    await record.click();
    await page.getByRole('timer', { name: 'Recording time' }).filter({ hasText: '0:01' }).waitFor();
    await page.getByRole('button', { name: 'Stop', exact: true }).click();
    await page.waitForFunction(() => (window as unknown as { recordings: unknown[] }).recordings.length === 3);
    await record.click();
    await page.getByRole('button', { name: 'Cancel', exact: true }).click();
    await page.getByRole('timer').waitFor({ state: 'detached' });
    assert.equal(await record.getAttribute('aria-pressed'), 'false');
    // Escape, with focus on the recorder's controls, is Cancel too.
    await record.click();
    await page.getByRole('timer', { name: 'Recording time' }).waitFor();
    await record.focus();
    await page.keyboard.press('Escape');
    await page.getByRole('timer').waitFor({ state: 'detached' });
    // A press-and-release is refused as too short, with a message; nothing is emitted.
    await record.click();
    await page.getByRole('button', { name: 'Stop', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: 'That was too short to send.' }).waitFor();
    // A new recording after the cancel and the short one still works, and is the fourth event.
    await record.click();
    await page.getByRole('alert').filter({ hasText: /./ }).waitFor({ state: 'detached' });
    await page.getByRole('timer', { name: 'Recording time' }).filter({ hasText: '0:01' }).waitFor();
    await page.getByRole('button', { name: 'Stop', exact: true }).click();
    await page.waitForFunction(() => (window as unknown as { recordings: unknown[] }).recordings.length === 4);
    assert.equal((await recordings(page)).length, 4);
  });

  await t.test('<voice-player> plays the recording through an audio element: time advances, the slider follows, speed cycles 1× → 1.5× → 2× → 1×', async () => {
    const first = (await recordings(page))[1];
    await page.evaluate((rec) => {
      const blob = (window as unknown as { recordingBlobs: Blob[] }).recordingBlobs[1];
      const player = document.createElement('voice-player');
      player.src = URL.createObjectURL(blob);
      player.durationMs = rec.durationMs;
      player.waveform = rec.waveform;
      player.label = 'Voice message from alice';
      document.getElementById('root')!.append(player);
    }, first);
    const group = page.getByRole('group', { name: 'Voice message from alice' });
    await group.waitFor();
    assert.equal(await page.locator('voice-player audio').count(), 1, 'an audio element');
    assert.equal(await page.locator('voice-player svg rect').count(), 64, 'the waveform bars');
    assert.equal(await group.getByRole('slider', { name: 'Position' }).getAttribute('max'), String(first.durationMs));
    await group.getByRole('button', { name: 'Play', exact: true }).click();
    await page.waitForFunction(() => (document.querySelector('voice-player')?.audioElement.currentTime ?? 0) > 0.3);
    await group.getByRole('button', { name: 'Pause', exact: true }).waitFor();
    const slider = Number(await group.getByRole('slider', { name: 'Position' }).inputValue());
    assert.ok(slider > 0, `slider at ${slider}`);
    const speed = group.getByRole('button', { name: /^Playback speed/ });
    const rates: number[] = [];
    for (const label of ['1.5×', '2×', '1×']) {
      await speed.click();
      await group.getByRole('button', { name: `Playback speed ${label}` }).waitFor();
      rates.push(await page.evaluate(() => document.querySelector('voice-player')!.audioElement.playbackRate));
    }
    assert.deepEqual(rates, [1.5, 2, 1]);
    await group.getByRole('button', { name: 'Pause', exact: true }).click();
    await group.getByRole('button', { name: 'Play', exact: true }).waitFor();
    assert.equal(await page.evaluate(() => document.querySelector('voice-player')!.audioElement.paused), true);    // Paused, the scrubber seeks: drag it to 1.5 s (an input event, as a person's drag fires).
    await page.evaluate(() => {
      const range = document.querySelector('voice-player')!.shadowRoot!.querySelector<HTMLInputElement>('input[type=range]')!;
      range.value = '1500';
      range.dispatchEvent(new Event('input', { bubbles: true }));
    });
    const afterSeek = await page.evaluate(() => document.querySelector('voice-player')!.audioElement.currentTime);
    assert.ok(afterSeek >= 1.4 && afterSeek <= 1.7, `currentTime after seeking to 1.5 s: ${afterSeek}`);
  });

  await t.test('streamed playback: the player plays from a MediaSource before the second half of the file is appended; a failing stream shows an error', async () => {
    const result = await page.evaluate(async () => {
      const w = window as unknown as { recordingBlobs: Blob[]; recordings: { durationMs: number; waveform: number[]; mime: string }[] };
      const bytes = new Uint8Array(await w.recordingBlobs[1].arrayBuffer());
      const meta = w.recordings[1];
      if (!window.mediaTest.canStream(meta.mime)) return { streamable: false };
      const pieces: Uint8Array[] = [];
      for (let i = 0; i < bytes.length; i += 1024) pieces.push(bytes.subarray(i, i + 1024));
      const half = Math.ceil(pieces.length / 2);
      let appended = 0;
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      async function* chunks(failAfterHalf: boolean) {
        for (let i = 0; i < pieces.length; i++) {
          if (i === half) {
            if (failAfterHalf) throw new Error('corrupt chunk');
            await gate;
          }
          appended = i + 1;
          yield pieces[i];
        }
      }
      const streamed = window.mediaTest.streamToMediaSource(chunks(false), meta.mime);
      const player = document.createElement('voice-player');
      player.label = 'Streamed voice message';
      player.src = streamed.url;
      player.durationMs = meta.durationMs;
      player.waveform = meta.waveform;
      document.getElementById('root')!.append(player);
      await player.updateComplete;
      const audio = player.audioElement;
      player.shadowRoot!.querySelector<HTMLButtonElement>('button.toggle')!.click();
      await new Promise<void>((resolve) => {
        const check = () => (audio.currentTime > 0.2 ? resolve() : undefined);
        audio.addEventListener('timeupdate', check);
      });
      const playedBeforeRest = { currentTime: audio.currentTime, appended, total: pieces.length };
      release();
      await streamed.done;
      const durationAfter = audio.duration;
      audio.pause();

      const broken = window.mediaTest.streamToMediaSource(chunks(true), meta.mime);
      const failing = document.createElement('voice-player');
      failing.label = 'Broken voice message';
      failing.src = broken.url;
      document.getElementById('root')!.append(failing);
      const error = await broken.done.then(() => 'resolved', (e: Error) => e.message);
      return { streamable: true, playedBeforeRest, durationAfter, error };
    });
    assert.equal(result.streamable, true, 'Chromium streams WebM/Opus');
    const { playedBeforeRest, durationAfter, error } = result as { playedBeforeRest: { currentTime: number; appended: number; total: number }; durationAfter: number; error: string };
    assert.ok(playedBeforeRest.appended < playedBeforeRest.total, `playing at ${playedBeforeRest.currentTime}s with ${playedBeforeRest.appended} of ${playedBeforeRest.total} pieces appended`);
    assert.ok(Math.abs(durationAfter - 2) < 0.5, `duration once ended: ${durationAfter}`);
    assert.equal(error, 'corrupt chunk');
    await page.getByRole('group', { name: 'Broken voice message' }).getByRole('alert').filter({ hasText: 'This voice message cannot be played.' }).waitFor();
  });

  await t.test('a microphone the browser refuses: the recorder says so in words and stays usable', async () => {
    const denied = await newContext(browser);
    t.after(() => denied.close());
    const deniedPage = await openMediaPage(denied, site.origin);
    await addRecorder(deniedPage);
    await deniedPage.getByRole('button', { name: 'Record voice message' }).click();
    const alert = deniedPage.getByRole('alert').filter({ hasText: /./ });
    await alert.waitFor();
    assert.match(await alert.innerText(), /Microphone access was refused\. Allow the microphone for this site/);
    assert.equal(await deniedPage.getByRole('button', { name: 'Record voice message' }).getAttribute('aria-pressed'), 'false');
    assert.equal(await deniedPage.getByRole('button', { name: 'Record voice message' }).isEnabled(), true);
    assert.deepEqual(await recordings(deniedPage), []);
    assert.deepEqual(describeProblems([deniedPage]), []);
  });

  assert.deepEqual(describeProblems([page]), []);
});
