/**
 * <photo-lightbox>: a modal view of one photo of a list, with zoom (wheel, pinch, buttons, + / −),
 * pan while zoomed, Download, Previous / Next (buttons and ← / →); Escape closes. Built on a modal
 * `dialog`, so the page behind is inert and focus stays inside until it closes, then goes back to
 * the element that had it.
 */
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import { sharedStyles } from '../shared-styles.ts';
import { LightboxClosedEvent, LightboxIndexEvent } from './media-events.ts';

/** One photo the lightbox can show: a checked blob: URL (safeImageFromBytes) and its names. */
export interface LightboxPhoto {
  src: string;
  /** Alternative text, e.g. "Photo from alice". */
  alt: string;
  /** File name offered by Download. */
  name: string;
  /** 0–1 while the full image is still downloading (`src` is then its thumbnail); absent when it is here. */
  progress?: number;
}

const MIN_ZOOM = 1;
const MAX_ZOOM = 8;
const ZOOM_STEP = 1.25;

@customElement('photo-lightbox')
export class PhotoLightbox extends LitElement {
  static styles = [
    sharedStyles,
    css`
      dialog { border: 0; padding: 0; margin: 0; width: 100vw; height: 100vh; max-width: none; max-height: none; background: var(--chat-color-overlay); color: var(--chat-color-text); }
      dialog::backdrop { background: var(--chat-color-overlay); }
      .frame { display: grid; grid-template-rows: auto minmax(0, 1fr); width: 100%; height: 100%; }
      .bar { display: flex; align-items: center; gap: var(--chat-space-2); padding: var(--chat-space-2) var(--chat-space-3); background: var(--chat-color-surface); }
      .bar .count { margin-right: auto; color: var(--chat-color-text-muted); font-size: var(--chat-font-size-small); }
      .bar progress { width: 8em; accent-color: var(--chat-color-accent); }
      .bar a { color: inherit; text-decoration: none; border: var(--chat-border-width) solid var(--chat-color-border); border-radius: var(--chat-radius-small); padding: var(--chat-space-2) var(--chat-space-3); background: var(--chat-color-surface-raised); }
      .stage { position: relative; overflow: hidden; display: grid; grid-template: minmax(0, 1fr) / minmax(0, 1fr); place-items: center; touch-action: none; min-height: 0; }
      /* Fitted inside the stage: a photo larger than the window is shown whole (zoom to see it at full size). */
      img { max-width: 100%; max-height: 100%; object-fit: contain; transform-origin: center; user-select: none; cursor: zoom-in; }
      img.zoomed { cursor: grab; }
      .nav { position: absolute; top: 50%; transform: translateY(-50%); }
      .nav.prev { left: var(--chat-space-3); }
      .nav.next { right: var(--chat-space-3); }
    `,
  ];

  /** The photos of the conversation, in order. */
  @property({ attribute: false }) photos: LightboxPhoto[] = [];
  /** The photo shown. */
  @property({ type: Number }) index = 0;
  @state() private zoom = 1;
  @query('dialog') private dialog!: HTMLDialogElement;
  @query('img') private img: HTMLImageElement | undefined;
  private panX = 0;
  private panY = 0;
  private pointers = new Map<number, { x: number; y: number }>();
  private pinchStart: { distance: number; zoom: number } | undefined;
  private returnFocus: HTMLElement | null = null;

  /** Whether it is showing. */
  get isOpen(): boolean {
    return this.dialog?.open ?? false;
  }

  /** Opens at `index` (defaults to the current one). */
  async open(index = this.index): Promise<void> {
    this.returnFocus = deepActiveElement();
    this.index = clampIndex(index, this.photos.length);
    this.resetZoom();
    await this.updateComplete;
    if (!this.dialog.open) this.dialog.showModal();
    this.shadowRoot?.querySelector<HTMLButtonElement>('button.close')?.focus();
  }

  /** Closes and gives focus back to the element that had it before opening. */
  close(): void {
    if (this.dialog?.open) this.dialog.close();
  }

  render() {
    const photo = this.photos[this.index];
    const many = this.photos.length > 1;
    return html`
      <dialog aria-label="Photo viewer" @close=${this.onClose} @keydown=${this.onKey}>
        <div class="frame">
          <div class="bar">
            <span class="count" aria-live="polite">${many ? `${this.index + 1} of ${this.photos.length}` : ''}</span>
            ${photo?.progress !== undefined ? html`<progress aria-label="Download progress" max="1" .value=${photo.progress}></progress>` : nothing}
            <button type="button" aria-label="Zoom out" ?disabled=${this.zoom <= MIN_ZOOM} @click=${() => this.zoomBy(1 / ZOOM_STEP)}>−</button>
            <button type="button" aria-label="Zoom in" ?disabled=${this.zoom >= MAX_ZOOM} @click=${() => this.zoomBy(ZOOM_STEP)}>+</button>
            <button type="button" aria-label="Actual size" ?disabled=${this.zoom === 1} @click=${this.resetZoom}>1:1</button>
            ${photo && photo.progress === undefined ? html`<a href=${photo.src} download=${photo.name || 'photo'}>Download</a>` : nothing}
            <button type="button" class="close" @click=${() => this.close()}>Close</button>
          </div>
          <div class="stage" @wheel=${this.onWheel} @pointerdown=${this.onPointerDown} @pointermove=${this.onPointerMove} @pointerup=${this.onPointerUp} @pointercancel=${this.onPointerUp}>
            ${photo ? html`<img src=${photo.src} alt=${photo.alt} draggable="false" class=${this.zoom > 1 ? 'zoomed' : ''} @dblclick=${this.onDoubleClick} />` : nothing}
            ${many ? html`
              <button type="button" class="nav prev" aria-label="Previous photo" ?disabled=${this.index === 0} @click=${() => this.go(-1)}>‹</button>
              <button type="button" class="nav next" aria-label="Next photo" ?disabled=${this.index === this.photos.length - 1} @click=${() => this.go(1)}>›</button>
            ` : nothing}
          </div>
        </div>
      </dialog>
    `;
  }

  protected updated(): void {
    // Through the CSSOM: the CSP forbids inline style attributes.
    if (this.img) this.img.style.transform = `translate(${this.panX}px, ${this.panY}px) scale(${this.zoom})`;
  }

  /** Shown zoom factor (1 = fitted). */
  get zoomLevel(): number {
    return this.zoom;
  }

  private go(step: number): void {
    const next = clampIndex(this.index + step, this.photos.length);
    if (next === this.index) return;
    this.index = next;
    this.resetZoom();
    this.dispatchEvent(new LightboxIndexEvent(next));
    // At the first or last photo the pressed button turns disabled and the browser drops its
    // focus to the inert page: keep it on the other arrow.
    void this.updateComplete.then(() => {
      const active = this.shadowRoot?.activeElement;
      if (active && !(active instanceof HTMLButtonElement && active.disabled)) return;
      const other = this.shadowRoot?.querySelector<HTMLButtonElement>(`button.nav.${step > 0 ? 'prev' : 'next'}:not([disabled])`);
      (other ?? this.shadowRoot?.querySelector<HTMLButtonElement>('button.close'))?.focus();
    });
  }

  private zoomBy(factor: number): void {
    this.zoom = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, this.zoom * factor));
    if (this.zoom === 1) this.panX = this.panY = 0;
  }

  private resetZoom = () => {
    this.zoom = 1;
    this.panX = this.panY = 0;
    this.requestUpdate();
  };

  private onKey = (e: KeyboardEvent) => {
    if (e.key === 'Tab') this.keepFocusInside(e);
    else if (e.key === 'ArrowLeft') this.go(-1);
    else if (e.key === 'ArrowRight') this.go(1);
    else if (e.key === '+' || e.key === '=') this.zoomBy(ZOOM_STEP);
    else if (e.key === '-') this.zoomBy(1 / ZOOM_STEP);
    else if (e.key === '0') this.resetZoom();
    else return;
    e.preventDefault();
  };

  /**
   * A modal dialog makes the page inert, but Tab from its last control still leaves for the
   * browser's own UI (or nowhere, headless): wrap around instead.
   */
  private keepFocusInside(e: KeyboardEvent): void {
    const focusable = [...this.dialog.querySelectorAll<HTMLElement>('button:not([disabled]), a[href]')];
    if (focusable.length === 0) return;
    const current = this.shadowRoot?.activeElement as HTMLElement | null;
    const at = current ? focusable.indexOf(current) : -1;
    const next = e.shiftKey ? (at <= 0 ? focusable.length - 1 : at - 1) : at === -1 || at === focusable.length - 1 ? 0 : at + 1;
    e.preventDefault();
    focusable[next].focus();
  }

  private onWheel = (e: WheelEvent) => {
    e.preventDefault();
    // deltaY is ~100 per notch on a mouse and small steps on a touchpad: zoom proportionally.
    this.zoomBy(Math.exp(-e.deltaY / 300));
  };

  private onDoubleClick = () => {
    if (this.zoom > 1) this.resetZoom();
    else this.zoomBy(2);
  };

  private onPointerDown = (e: PointerEvent) => {
    if ((e.target as Element).closest('button')) return;
    (e.currentTarget as Element).setPointerCapture(e.pointerId);
    this.pointers.set(e.pointerId, { x: e.clientX, y: e.clientY });
    if (this.pointers.size === 2) this.pinchStart = { distance: this.pointerDistance(), zoom: this.zoom };
  };

  private onPointerMove = (e: PointerEvent) => {
    const last = this.pointers.get(e.pointerId);
    if (!last) return;
    this.pointers.set(e.pointerId, { x: e.clientX, y: e.clientY });
    if (this.pointers.size === 2 && this.pinchStart && this.pinchStart.distance > 0) {
      this.zoom = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, this.pinchStart.zoom * (this.pointerDistance() / this.pinchStart.distance)));
    } else if (this.pointers.size === 1 && this.zoom > 1) {
      this.panX += e.clientX - last.x;
      this.panY += e.clientY - last.y;
      this.requestUpdate();
    }
  };

  private onPointerUp = (e: PointerEvent) => {
    this.pointers.delete(e.pointerId);
    if (this.pointers.size < 2) this.pinchStart = undefined;
  };

  private pointerDistance(): number {
    const [a, b] = [...this.pointers.values()];
    return a && b ? Math.hypot(a.x - b.x, a.y - b.y) : 0;
  }

  private onClose = () => {
    this.pointers.clear();
    this.dispatchEvent(new LightboxClosedEvent());
    this.returnFocus?.focus();
    this.returnFocus = null;
  };
}

function clampIndex(i: number, length: number): number {
  return Math.min(Math.max(0, Math.trunc(i)), Math.max(0, length - 1));
}

/** The focused element, looking through open shadow roots (the opener sits inside other components). */
function deepActiveElement(): HTMLElement | null {
  let el: Element | null = document.activeElement;
  while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement;
  return el instanceof HTMLElement ? el : null;
}

declare global {
  interface HTMLElementTagNameMap {
    'photo-lightbox': PhotoLightbox;
  }
}
