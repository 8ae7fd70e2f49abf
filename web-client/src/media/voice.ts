/**
 * Voice messages: records the microphone with MediaRecorder (Opus in WebM where the browser has
 * it), reports the live duration and level, and on stop returns the recording with its exact
 * duration and a waveform of peaks decoded from the recording itself.
 */
import { MediaError, microphoneError } from './errors.ts';

/** Recording types in order of preference; the first that MediaRecorder supports is used. */
export const VOICE_MIME_PREFERENCE = ['audio/webm;codecs=opus', 'audio/ogg;codecs=opus', 'audio/webm', 'audio/ogg', 'audio/mp4'] as const;

/** Bars in a waveform. */
export const WAVEFORM_BARS = 64;

/** A finished voice message. */
export interface VoiceRecording {
  blob: Blob;
  /** What the recorder produced, e.g. "audio/webm;codecs=opus". */
  mime: string;
  /** Milliseconds, from the decoded audio (the wall clock when it cannot be decoded). */
  durationMs: number;
  /** WAVEFORM_BARS peaks, 0–255, scaled so the loudest bar is 255 (all 0 for silence). */
  waveform: number[];
}

/** Options of startVoiceRecording. */
export interface VoiceRecordingOptions {
  /** Called about every `tickMs` with the milliseconds recorded so far. */
  onDuration?: (ms: number) => void;
  /** Called about every `tickMs` with the input level: RMS of the last ~46 ms, 0 (silence) to 1 (full scale). */
  onLevel?: (rms: number) => void;
  /** Milliseconds between callbacks. */
  tickMs?: number;
  /** Longest recording; it stops itself there (the `stopped` promise then resolves). Milliseconds. */
  maxDurationMs?: number;
  /** Shorter recordings are refused with `too_short` (an accidental double press). Milliseconds, default 500. */
  minDurationMs?: number;
}

/** A recording in progress. */
export interface VoiceSession {
  /** The MIME type being recorded. */
  readonly mime: string;
  /** Ends the recording and returns it. */
  stop(): Promise<VoiceRecording>;
  /** Ends the recording and throws it away; `stop()` afterwards rejects with `cancelled`. */
  cancel(): void;
  /** Resolves with the recording when it ends by `stop()` or by reaching `maxDurationMs`. */
  readonly stopped: Promise<VoiceRecording>;
}

/** The first type of VOICE_MIME_PREFERENCE this browser can record, or undefined. */
export function pickVoiceMime(isTypeSupported: (t: string) => boolean = (t) => MediaRecorder.isTypeSupported(t)): string | undefined {
  return VOICE_MIME_PREFERENCE.find((t) => isTypeSupported(t));
}

/** Peak of |sample| over `bars` equal slices of `samples`, scaled so the highest is 255. */
export function waveformPeaks(samples: Float32Array, bars = WAVEFORM_BARS): number[] {
  const peaks = new Array<number>(bars).fill(0);
  if (samples.length === 0) return peaks;
  for (let bar = 0; bar < bars; bar++) {
    const from = Math.floor((bar * samples.length) / bars);
    const to = Math.max(from + 1, Math.floor(((bar + 1) * samples.length) / bars));
    let peak = 0;
    for (let i = from; i < to && i < samples.length; i++) {
      const v = Math.abs(samples[i]);
      if (v > peak) peak = v;
    }
    peaks[bar] = peak;
  }
  const max = Math.max(...peaks);
  return peaks.map((p) => (max > 0 ? Math.round((p / max) * 255) : 0));
}

/** Root mean square of `samples` (−1..1), 0..1. */
export function rms(samples: Float32Array): number {
  if (samples.length === 0) return 0;
  let sum = 0;
  for (const v of samples) sum += v * v;
  return Math.sqrt(sum / samples.length);
}

/** Decodes `blob` and returns its duration (ms) and waveform; undefined when the browser cannot decode it. */
export async function analyseRecording(blob: Blob, bars = WAVEFORM_BARS): Promise<{ durationMs: number; waveform: number[] } | undefined> {
  try {
    // decodeAudioData resamples to the context's rate; 8 kHz is plenty for peaks and cheap.
    const ctx = new OfflineAudioContext(1, 1, 8000);
    const audio = await ctx.decodeAudioData(await blob.arrayBuffer());
    const mono = new Float32Array(audio.length);
    for (let ch = 0; ch < audio.numberOfChannels; ch++) {
      const data = audio.getChannelData(ch);
      for (let i = 0; i < data.length; i++) mono[i] += data[i] / audio.numberOfChannels;
    }
    return { durationMs: Math.round(audio.duration * 1000), waveform: waveformPeaks(mono, bars) };
  } catch {
    return undefined;
  }
}

/**
 * Asks for the microphone and starts recording. Rejects with MediaError `mic_denied`,
 * `mic_missing`, `mic_busy` or `recorder_unsupported`, whose message can be shown as is.
 */
export async function startVoiceRecording(opts: VoiceRecordingOptions = {}): Promise<VoiceSession> {
  if (typeof MediaRecorder === 'undefined' || !navigator.mediaDevices?.getUserMedia) {
    throw new MediaError('recorder_unsupported', 'This browser cannot record voice messages here. They need a secure (https) connection and a current browser.');
  }
  const mime = pickVoiceMime();
  if (!mime) throw new MediaError('recorder_unsupported', 'This browser cannot record audio in a format others can play.');
  let stream: MediaStream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true } });
  } catch (err) {
    throw microphoneError(err);
  }
  return new Session(stream, mime, opts);
}

class Session implements VoiceSession {
  readonly mime: string;
  readonly stopped: Promise<VoiceRecording>;
  private readonly stream: MediaStream;
  private readonly recorder: MediaRecorder;
  private readonly chunks: Blob[] = [];
  private readonly audioCtx: AudioContext | undefined;
  private readonly analyser: AnalyserNode | undefined;
  private readonly timer: ReturnType<typeof setInterval>;
  private startedAt = performance.now();
  private cancelled = false;
  private resolve!: (r: VoiceRecording) => void;
  private reject!: (e: unknown) => void;

  constructor(stream: MediaStream, mime: string, private readonly opts: VoiceRecordingOptions) {
    this.stream = stream;
    this.mime = mime;
    this.stopped = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    // Nobody may await `stopped` (cancel): do not report that as unhandled.
    this.stopped.catch(() => {});
    try {
      this.recorder = new MediaRecorder(stream, { mimeType: mime, audioBitsPerSecond: 32_000 });
    } catch (err) {
      this.release();
      throw microphoneError(err);
    }
    if (opts.onLevel) {
      this.audioCtx = new AudioContext();
      this.analyser = this.audioCtx.createAnalyser();
      this.analyser.fftSize = 2048; // ~46 ms at 44.1 kHz
      this.audioCtx.createMediaStreamSource(stream).connect(this.analyser);
    }
    this.recorder.addEventListener('dataavailable', (e) => {
      if (e.data.size > 0) this.chunks.push(e.data);
    });
    this.recorder.addEventListener('start', () => (this.startedAt = performance.now()));
    this.recorder.addEventListener('stop', () => void this.finish());
    this.recorder.addEventListener('error', (e) => {
      this.release();
      this.reject(new MediaError('recording_failed', 'The recording failed. Try again.', { cause: e }));
    });
    this.recorder.start(250);
    const samples = this.analyser ? new Float32Array(this.analyser.fftSize) : undefined;
    this.timer = setInterval(() => {
      const elapsed = this.elapsedMs();
      opts.onDuration?.(elapsed);
      if (this.analyser && samples) {
        this.analyser.getFloatTimeDomainData(samples);
        opts.onLevel?.(rms(samples));
      }
      if (opts.maxDurationMs !== undefined && elapsed >= opts.maxDurationMs) void this.stop();
    }, opts.tickMs ?? 100);
  }

  private elapsedMs(): number {
    return Math.round(performance.now() - this.startedAt);
  }

  stop(): Promise<VoiceRecording> {
    if (this.recorder.state !== 'inactive') this.recorder.stop();
    return this.stopped;
  }

  cancel(): void {
    this.cancelled = true;
    if (this.recorder.state !== 'inactive') this.recorder.stop();
    else this.release();
  }

  private async finish(): Promise<void> {
    const wallMs = this.elapsedMs();
    this.release();
    if (this.cancelled) {
      this.reject(new MediaError('cancelled', 'The recording was cancelled.'));
      return;
    }
    const blob = new Blob(this.chunks, { type: this.recorder.mimeType || this.mime });
    const minMs = this.opts.minDurationMs ?? 500;
    // The recorder delivers nothing for the first ~100 ms: an empty blob is a press-and-release too.
    const analysis = blob.size > 0 ? await analyseRecording(blob) : undefined;
    const durationMs = analysis?.durationMs ?? wallMs;
    if (blob.size === 0 || durationMs < minMs) {
      this.reject(new MediaError('too_short', 'That was too short to send. Press Record voice message, speak, then press it again.'));
      return;
    }
    this.resolve({ blob, mime: blob.type, durationMs, waveform: analysis?.waveform ?? new Array<number>(WAVEFORM_BARS).fill(0) });
  }

  /** Stops the timer, the microphone (the browser's recording indicator goes off) and the level meter. */
  private release(): void {
    clearInterval(this.timer);
    for (const track of this.stream.getTracks()) track.stop();
    void this.audioCtx?.close().catch(() => {});
  }
}
