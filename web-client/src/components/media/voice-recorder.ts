/** <voice-recorder>: Record voice message (press again or Stop to end), live duration and level, Cancel (or Escape); emits `voice-recorded`. */
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import { MediaError } from '../../media/errors.ts';
import { formatDuration } from '../../media/format.ts';
import { startVoiceRecording, type VoiceRecording, type VoiceSession } from '../../media/voice.ts';
import { sharedStyles } from '../shared-styles.ts';
import { VoiceRecordedEvent } from './media-events.ts';

@customElement('voice-recorder')
export class VoiceRecorder extends LitElement {
  static styles = [
    sharedStyles,
    css`
      :host { display: inline-flex; flex-direction: column; gap: var(--chat-space-1); }
      .row { display: flex; align-items: center; gap: var(--chat-space-2); }
      button[aria-pressed='true'] { background: var(--chat-color-danger); color: var(--chat-color-text-inverse); border-color: var(--chat-color-danger); }
      .time { font-variant-numeric: tabular-nums; min-width: 3.5em; }
      meter { width: 6em; height: var(--chat-space-2); }
      .error { margin: 0; font-size: var(--chat-font-size-small); }
    `,
  ];

  /** Longest recording in milliseconds; it stops by itself there. */
  @property({ type: Number, attribute: 'max-duration-ms' }) maxDurationMs = 15 * 60 * 1000;
  /** Text of the button that ends the recording and keeps it (the composer: "Send voice message"). */
  @property({ attribute: 'stop-label' }) stopLabel = 'Stop';
  @state() private phase: 'idle' | 'starting' | 'recording' | 'finishing' = 'idle';
  @state() private elapsedMs = 0;
  @state() private level = 0;
  @state() private error = '';
  @query('#record') private recordButton!: HTMLButtonElement;
  private session: VoiceSession | undefined;

  /** True while the microphone is open. */
  get recording(): boolean {
    return this.phase === 'recording';
  }

  disconnectedCallback(): void {
    super.disconnectedCallback();
    this.session?.cancel();
    this.session = undefined;
  }

  render() {
    const active = this.phase !== 'idle';
    return html`
      <div class="row" @keydown=${this.onKey}>
        <button id="record" type="button" aria-pressed=${active ? 'true' : 'false'} ?disabled=${this.phase === 'starting' || this.phase === 'finishing'} @click=${this.toggle}>
          Record voice message
        </button>
        ${this.phase === 'recording'
          ? html`
              <span class="time" role="timer" aria-label="Recording time">${formatDuration(this.elapsedMs)}</span>
              <meter aria-label="Microphone level" min="0" max="1" .value=${this.level}></meter>
              <button type="button" class="primary" @click=${this.stop}>${this.stopLabel}</button>
              <button type="button" class="quiet" @click=${this.cancel}>Cancel</button>
            `
          : nothing}
      </div>
      <p class="error" role="alert">${this.error}</p>
    `;
  }

  /** Escape throws a recording away, like Cancel. */
  private onKey = (e: KeyboardEvent) => {
    if (e.key !== 'Escape' || this.phase !== 'recording') return;
    e.preventDefault();
    this.cancel();
  };

  private toggle = () => {
    if (this.phase === 'recording') void this.stop();
    else if (this.phase === 'idle') void this.start();
  };

  private async start(): Promise<void> {
    this.error = '';
    this.phase = 'starting';
    this.elapsedMs = 0;
    this.level = 0;
    try {
      this.session = await startVoiceRecording({
        maxDurationMs: this.maxDurationMs,
        onDuration: (ms) => (this.elapsedMs = ms),
        // RMS of speech is ~0.05–0.3: scale it so the meter moves visibly.
        onLevel: (rms) => (this.level = Math.min(1, rms * 4)),
      });
      if (!this.isConnected) {
        this.session.cancel();
        return;
      }
      this.phase = 'recording';
      // Reaching maxDurationMs ends the recording without a press.
      this.session.stopped.then((r) => this.deliver(r), (e) => this.fail(e));
    } catch (err) {
      this.fail(err);
    }
  }

  private stop = async () => {
    if (!this.session || this.phase !== 'recording') return;
    this.phase = 'finishing';
    await this.session.stop().catch(() => {});
  };

  private cancel = () => {
    this.session?.cancel();
    this.session = undefined;
    this.phase = 'idle';
    this.recordButton?.focus();
  };

  private deliver(recording: VoiceRecording): void {
    this.session = undefined;
    this.phase = 'idle';
    this.dispatchEvent(new VoiceRecordedEvent(recording));
  }

  private fail(err: unknown): void {
    this.session = undefined;
    this.phase = 'idle';
    if (err instanceof MediaError && err.code === 'cancelled') return;
    this.error = err instanceof MediaError ? err.message : 'The recording failed. Try again.';
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'voice-recorder': VoiceRecorder;
  }
}
