/**
 * <voice-player>: plays a voice message through an `audio` element with its own controls: play /
 * pause, a position slider, speed 1× / 1.5× / 2×, the waveform as bars and the duration.
 *
 * `src` may be a blob: URL of the whole file or the object URL of a MediaSource that is still
 * being filled (streamed decryption): playback starts with the first appended bytes. A WebM made by
 * MediaRecorder declares no duration, so pass `duration-ms` from the message's metadata; the
 * element's own duration is used once it is known and finite.
 */
import { LitElement, css, html, nothing, svg } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import { formatDuration } from '../../media/format.ts';
import { sharedStyles } from '../shared-styles.ts';

/** The speeds the speed button cycles through. */
export const VOICE_SPEEDS = [1, 1.5, 2] as const;

@customElement('voice-player')
export class VoicePlayer extends LitElement {
  static styles = [
    sharedStyles,
    css`
      :host { display: inline-block; max-width: 100%; }
      .player { display: grid; grid-template-columns: auto 1fr auto auto; align-items: center; gap: var(--chat-space-2); }
      .wave { position: relative; display: grid; min-width: 8em; }
      svg { width: 100%; height: calc(var(--chat-space-5) + var(--chat-space-2)); grid-area: 1 / 1; pointer-events: none; }
      rect { fill: var(--chat-color-text-muted); opacity: 0.5; }
      rect.played { fill: var(--chat-color-accent); opacity: 1; }
      input[type='range'] { grid-area: 1 / 1; width: 100%; margin: 0; padding: 0; border: 0; background: transparent; opacity: 0.35; accent-color: var(--chat-color-accent); }
      input[type='range']:focus-visible { opacity: 1; }
      .time { font-variant-numeric: tabular-nums; font-size: var(--chat-font-size-small); color: var(--chat-color-text-muted); white-space: nowrap; }
      .speed { font-size: var(--chat-font-size-small); padding: 0 var(--chat-space-2); min-width: 3.2em; }
      .toggle { border-radius: var(--chat-radius-round); width: calc(var(--chat-space-5) + var(--chat-space-2)); height: calc(var(--chat-space-5) + var(--chat-space-2)); padding: 0; }
      .error { grid-column: 1 / -1; margin: 0; font-size: var(--chat-font-size-small); }
    `,
  ];

  /** blob: URL of the recording, or a MediaSource object URL. */
  @property() src = '';
  /** From the message metadata; used while the audio element does not know the duration. */
  @property({ type: Number, attribute: 'duration-ms' }) durationMs = 0;
  /** Peaks 0–255 (VoiceRecording.waveform). */
  @property({ attribute: false }) waveform: number[] = [];
  /** Accessible name of the player, e.g. "Voice message from alice". */
  @property() label = 'Voice message';

  @state() private playing = false;
  @state() private positionMs = 0;
  @state() private mediaDurationMs = 0;
  @state() private speed: (typeof VOICE_SPEEDS)[number] = 1;
  @state() private error = '';
  @query('audio') private audio!: HTMLAudioElement;

  /** The audio element (tests read its state). */
  get audioElement(): HTMLAudioElement {
    return this.audio;
  }

  private get totalMs(): number {
    return this.mediaDurationMs || this.durationMs;
  }

  disconnectedCallback(): void {
    super.disconnectedCallback();
    this.audio?.pause();
  }

  render() {
    const total = this.totalMs;
    const fraction = total > 0 ? Math.min(1, this.positionMs / total) : 0;
    return html`
      <div class="player" role="group" aria-label=${this.label}>
        <audio
          preload="metadata"
          src=${this.src || nothing}
          @play=${() => (this.playing = true)}
          @pause=${() => (this.playing = false)}
          @ended=${this.onEnded}
          @timeupdate=${this.onTime}
          @durationchange=${this.onDuration}
          @loadedmetadata=${this.onDuration}
          @error=${() => (this.error = 'This voice message cannot be played.')}
        ></audio>
        <button type="button" class="toggle" aria-label=${this.playing ? 'Pause' : 'Play'} @click=${this.toggle}>${this.playing ? '❚❚' : '▶'}</button>
        <div class="wave">
          ${this.renderWaveform(fraction)}
          <input
            type="range"
            aria-label="Position"
            min="0"
            max=${Math.max(1, Math.round(total))}
            step="100"
            .value=${String(Math.round(this.positionMs))}
            aria-valuetext=${`${formatDuration(this.positionMs)} of ${formatDuration(total)}`}
            @input=${this.seek}
          />
        </div>
        <span class="time">${formatDuration(this.playing || this.positionMs > 0 ? this.positionMs : total)}</span>
        <button type="button" class="speed" aria-label=${`Playback speed ${this.speed}×`} @click=${this.nextSpeed}>${this.speed}×</button>
        <p class="error" role="alert">${this.error}</p>
      </div>
    `;
  }

  /** Bars as SVG rects; heights via attributes (the CSP allows no inline styles). */
  private renderWaveform(fraction: number) {
    const bars = this.waveform.length ? this.waveform : new Array<number>(32).fill(0);
    const n = bars.length;
    const width = 100 / n;
    return svg`<svg viewBox="0 0 100 32" preserveAspectRatio="none" aria-hidden="true">${bars.map((peak, i) => {
      const h = Math.max(2, (Math.min(255, Math.max(0, peak)) / 255) * 32);
      return svg`<rect class=${(i + 0.5) / n <= fraction ? 'played' : ''} x=${i * width + width * 0.15} width=${width * 0.7} y=${(32 - h) / 2} height=${h} rx="0.6"></rect>`;
    })}</svg>`;
  }

  private toggle = async () => {
    if (!this.audio) return;
    if (!this.audio.paused) {
      this.audio.pause();
      return;
    }
    try {
      this.error = '';
      this.audio.playbackRate = this.speed;
      await this.audio.play();
    } catch (err) {
      // AbortError: a pause came before play resolved; not a failure.
      if ((err as { name?: string }).name !== 'AbortError') this.error = 'This voice message cannot be played.';
    }
  };

  private onTime = () => {
    this.positionMs = this.audio.currentTime * 1000;
  };

  private onDuration = () => {
    const d = this.audio.duration;
    if (Number.isFinite(d) && d > 0) this.mediaDurationMs = d * 1000;
  };

  private onEnded = () => {
    this.playing = false;
    this.positionMs = 0;
    this.audio.currentTime = 0;
  };

  private seek = (e: Event) => {
    const ms = Number((e.target as HTMLInputElement).value);
    this.positionMs = ms;
    this.audio.currentTime = ms / 1000;
  };

  private nextSpeed = () => {
    this.speed = VOICE_SPEEDS[(VOICE_SPEEDS.indexOf(this.speed) + 1) % VOICE_SPEEDS.length];
    // Keeps the voice's pitch at 1.5× and 2× (the default, set explicitly for clarity).
    this.audio.preservesPitch = true;
    this.audio.playbackRate = this.speed;
  };
}

declare global {
  interface HTMLElementTagNameMap {
    'voice-player': VoicePlayer;
  }
}
