// web-client/src/media/format.ts, errors.ts and voice.ts helpers: sizes and durations for people, sender-chosen file names made safe, MIME families for icons, microphone errors mapped to messages a person understands, recorder type preference, waveform peaks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatBytes, formatDuration, mimeFamily, safeFileName } from '../../web-client/src/media/format.ts';
import { MediaError, microphoneError } from '../../web-client/src/media/errors.ts';
import { WAVEFORM_BARS, pickVoiceMime, rms, waveformPeaks } from '../../web-client/src/media/voice.ts';

test('formatBytes: bytes, then binary KB/MB/GB with one decimal below 10', () => {
  const cases: [number, string][] = [
    [0, '0 B'], [1, '1 B'], [1023, '1023 B'], [1024, '1 KB'], [1536, '1.5 KB'], [10 * 1024, '10 KB'],
    [1024 * 1024 - 1, '1 MB'], [5.25 * 1024 * 1024, '5.3 MB'], [100 * 1024 * 1024, '100 MB'],
    [2 * 1024 ** 3, '2 GB'], [3 * 1024 ** 4, '3 TB'], [5000 * 1024 ** 4, '5000 TB'],
  ];
  for (const [n, text] of cases) assert.equal(formatBytes(n), text, String(n));
  for (const bad of [-1, Number.NaN, Infinity]) assert.equal(formatBytes(bad), '—');
});

test('formatDuration: m:ss, h:mm:ss from an hour, rounded down, nonsense is 0:00', () => {
  const cases: [number, string][] = [[0, '0:00'], [999, '0:00'], [1000, '0:01'], [61_500, '1:01'], [600_000, '10:00'], [3_600_000, '1:00:00'], [3_725_000, '1:02:05']];
  for (const [ms, text] of cases) assert.equal(formatDuration(ms), text, String(ms));
  for (const bad of [-5, Number.NaN, Infinity]) assert.equal(formatDuration(bad), '0:00');
});

test('mimeFamily: top-level type, PDF, archives, office documents; parameters and case ignored', () => {
  const cases: [string, string][] = [
    ['image/jpeg', 'image'], ['IMAGE/PNG', 'image'], ['audio/webm;codecs=opus', 'audio'], ['video/mp4', 'video'], ['text/plain; charset=utf-8', 'text'],
    ['application/pdf', 'pdf'], ['application/zip', 'archive'], ['application/x-7z-compressed', 'archive'], ['application/json', 'text'],
    ['application/vnd.openxmlformats-officedocument.wordprocessingml.document', 'document'], ['application/vnd.oasis.opendocument.spreadsheet', 'document'],
    ['application/octet-stream', 'other'], ['', 'other'], ['nonsense', 'other'],
  ];
  for (const [mime, family] of cases) assert.equal(mimeFamily(mime), family, mime);
});

test('microphone errors become MediaErrors with stable codes and messages that say what to do', () => {
  const cases: [string, string, RegExp][] = [
    ['NotAllowedError', 'mic_denied', /refused.*site settings/],
    ['SecurityError', 'mic_denied', /refused/],
    ['NotFoundError', 'mic_missing', /No microphone was found/],
    ['OverconstrainedError', 'mic_missing', /No microphone/],
    ['NotReadableError', 'mic_busy', /Another app/],
    ['TypeError', 'recorder_unsupported', /secure \(https\)/],
    ['SomethingElse', 'recording_failed', /failed/],
  ];
  for (const [name, code, message] of cases) {
    const err = microphoneError(new DOMException('raw browser text', name));
    assert.ok(err instanceof MediaError);
    assert.equal(err.code, code, name);
    assert.match(err.message, message, name);
    assert.doesNotMatch(err.message, /raw browser text/);
  }
  const own = new MediaError('cancelled', 'x');
  assert.equal(microphoneError(own), own);
  assert.equal(microphoneError('just a string').code, 'recording_failed');
});

test('pickVoiceMime prefers Opus in WebM, then Ogg, then whatever is supported; none → undefined', () => {
  assert.equal(pickVoiceMime(() => true), 'audio/webm;codecs=opus');
  assert.equal(pickVoiceMime((t) => t.startsWith('audio/ogg')), 'audio/ogg;codecs=opus');
  assert.equal(pickVoiceMime((t) => t === 'audio/mp4'), 'audio/mp4');
  assert.equal(pickVoiceMime(() => false), undefined);
});

test('waveformPeaks: 64 bars of the peak |sample| per slice, loudest = 255; silence and empty are all 0', () => {
  const samples = new Float32Array(6400);
  for (let i = 0; i < samples.length; i++) samples[i] = Math.sin(i / 5) * (i < 3200 ? 0.1 : 0.8);
  const peaks = waveformPeaks(samples);
  assert.equal(peaks.length, WAVEFORM_BARS);
  assert.equal(Math.max(...peaks), 255);
  assert.ok(peaks.slice(0, 31).every((p) => p > 20 && p < 40), `quiet half: ${peaks.slice(0, 31)}`);
  assert.ok(peaks.slice(33).every((p) => p > 240), 'loud half');
  assert.deepEqual(waveformPeaks(new Float32Array(1000)), new Array(64).fill(0));
  assert.deepEqual(waveformPeaks(new Float32Array(0), 8), new Array(8).fill(0));
  assert.equal(waveformPeaks(new Float32Array([0.5, -1, 0.25]), 8).length, 8, 'fewer samples than bars');
  assert.ok(Math.abs(rms(new Float32Array([1, -1, 1, -1])) - 1) < 1e-9);
  assert.equal(rms(new Float32Array(0)), 0);
});

test('safeFileName: bidi overrides and control characters go, separators become _, long names are cut', () => {
  assert.equal(safeFileName('photo\u202Egpj.exe'), 'photogpj.exe', 'a right-to-left override cannot disguise the extension');
  assert.equal(safeFileName('a\u2066b\u2069c\u200Fd.txt'), 'abcd.txt');
  assert.equal(safeFileName('line\nbreak\u0000.pdf'), 'linebreak.pdf');
  assert.equal(safeFileName('../../etc/passwd'), '.._.._etc_passwd');
  assert.equal(safeFileName('C:\\Users\\x.doc'), 'C:_Users_x.doc');
  assert.equal(safeFileName('  résumé 2026.pdf '), 'résumé 2026.pdf');
  assert.equal(safeFileName('\u202E\u0007'), '', 'nothing left: the caller picks a name');
  assert.equal(safeFileName('x'.repeat(300)).length, 120);
});
