/**
 * <message-view>: the Messages log of one conversation — day separators, grouped runs by author,
 * sticks to the bottom while you are there, pages back in history when scrolled to the top.
 */
import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import { customElement, property, query } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import type { StoredMessage } from '../../../src/shared/api.ts';
import { StoreController } from '../state/store-controller.ts';
import type { MessageActionEvent } from './events.ts';
import './message-bubble.ts';
import type { PhotoOpenEvent } from './media/media-events.ts';
import type { PhotoViewer } from './media/photo-viewer.ts';
import './media/photo-viewer.ts';
import { sharedStyles } from './shared-styles.ts';

/** Messages by one author within this many ms form one group (one name shown). */
const GROUP_GAP_MS = 5 * 60_000;
/** Start loading older messages when this close to the top, in px. */
const LOAD_OLDER_PX = 80;
/** "At the bottom" tolerance, in px. */
const BOTTOM_SLACK_PX = 48;

const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });

@customElement('message-view')
export class MessageView extends LitElement {
  static styles = [
    sharedStyles,
    css`
      :host { display: block; min-height: 0; }
      .log { height: 100%; overflow-y: auto; padding: var(--chat-space-3) var(--chat-space-4); }
      .day {
        display: flex; align-items: center; gap: var(--chat-space-3);
        color: var(--chat-color-text-muted); font-size: var(--chat-font-size-small);
        margin: var(--chat-space-4) 0 var(--chat-space-2);
      }
      .day::before, .day::after { content: ''; flex: 1; border-top: var(--chat-border-width) solid var(--chat-color-border); }
      .edge { text-align: center; color: var(--chat-color-text-muted); font-size: var(--chat-font-size-small); margin: var(--chat-space-2) 0; }
    `,
  ];

  @property() conv = '';
  @query('.log') private log!: HTMLElement;
  @query('photo-viewer') private viewer!: PhotoViewer;

  private readonly chat = new StoreController(this);
  /** Scroll state captured before an update, to restore after it. */
  private snapshot: { height: number; top: number; atBottom: boolean; first?: number } | null = null;
  private lastConv = '';
  /** Oldest seq in the last render: when it changes, older messages were prepended. */
  private renderedFirst: number | undefined;

  override render() {
    const store = this.chat.store;
    if (!store) return nothing;
    const messages = store.messagesOf(this.conv);
    const pending = store.pendingOf(this.conv);
    const me = store.session?.user.id;
    const rows: unknown[] = [];
    let prev: StoredMessage | undefined;
    for (const m of messages) {
      const day = dayKey(m.ts);
      if (!prev || dayKey(prev.ts) !== day) rows.push(html`<div class="day" role="separator" aria-label=${dayFormat.format(m.ts)}>${dayFormat.format(m.ts)}</div>`);
      const continued = !!prev && prev.sender === m.sender && dayKey(prev.ts) === day && m.ts - prev.ts < GROUP_GAP_MS;
      rows.push(html`<message-bubble .author=${m.senderName} .decoded=${store.decodedOf(m.conv, m.seq)} .ts=${m.ts} ?own=${m.sender === me} ?continued=${continued}></message-bubble>`);
      prev = m;
    }
    this.renderedFirst = messages[0]?.seq;
    const hasMore = store.hasMore(this.conv);
    return html`
      <div class="log" role="log" aria-label="Messages" aria-live="polite" tabindex="0" @scroll=${this.onScroll}
        @photo-open=${(e: PhotoOpenEvent) => void this.viewer.show(e.blobId)}>
        <p class="edge">${store.isLoading(this.conv) ? 'Loading messages…' : hasMore ? '' : 'This is the beginning of the conversation.'}</p>
        ${rows}
        ${repeat(
          pending,
          (p) => p.ref,
          (p, i) => html`<message-bubble .author=${store.session?.user.username ?? ''} .decoded=${{ ok: true, content: p.content }} .ts=${p.ts} own pending .waiting=${p.waiting ?? ''}
            ?continued=${i > 0 || prev?.sender === me} .error=${p.error ?? ''}
            @chat-message-action=${(e: MessageActionEvent) => store.retry(p.ref, e.action === 'discard')}></message-bubble>`,
        )}
      </div>
      <photo-viewer conv=${this.conv}></photo-viewer>
    `;
  }

  protected override willUpdate(changed: PropertyValues): void {
    const log = this.log;
    if (!log || changed.has('conv')) {
      this.snapshot = null;
      return;
    }
    this.snapshot = {
      height: log.scrollHeight,
      top: log.scrollTop,
      atBottom: log.scrollHeight - log.scrollTop - log.clientHeight < BOTTOM_SLACK_PX,
      first: this.renderedFirst,
    };
  }

  protected override updated(): void {
    const before = this.snapshot;
    // Bubbles render in their own update cycle, after ours: measure once they have.
    const bubbles = [...this.renderRoot.querySelectorAll('message-bubble')].map((b) => b.updateComplete);
    void Promise.all(bubbles).then(() => this.restoreScroll(before));
  }

  private restoreScroll(before: MessageView['snapshot']): void {
    const log = this.log;
    if (!log) return;
    if (!before || this.lastConv !== this.conv) {
      this.lastConv = this.conv;
      log.scrollTop = log.scrollHeight;
    } else if (before.atBottom) {
      log.scrollTop = log.scrollHeight;
    } else if (before.first !== this.renderedFirst) {
      // Older messages were prepended: keep what the reader was looking at in place.
      log.scrollTop = before.top + (log.scrollHeight - before.height);
    }
    this.fillViewport();
  }

  private onScroll(): void {
    if (this.log.scrollTop < LOAD_OLDER_PX) void this.chat.store?.loadOlder(this.conv);
    if (this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < BOTTOM_SLACK_PX) this.chat.store?.markActiveRead();
  }

  /** With too few messages to scroll there is no scroll-to-top, so page back until it fills. */
  private fillViewport(): void {
    const store = this.chat.store;
    if (!store || store.isLoading(this.conv) || !store.hasMore(this.conv) || store.messagesOf(this.conv).length === 0) return;
    if (this.log.scrollHeight <= this.log.clientHeight) void store.loadOlder(this.conv);
  }
}

function dayKey(ts: number): string {
  const d = new Date(ts);
  return `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
}

declare global {
  interface HTMLElementTagNameMap {
    'message-view': MessageView;
  }
}
