/** <devices-dialog>: "Your devices", the browsers that hold this account's end-to-end keys. */
import { html } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import type { OwnDeviceView } from '../../../src/shared/mls-api.ts';
import { messageOf } from '../state/store.ts';
import { DialogBase } from './dialog-base.ts';

/** Enough of a device id to tell devices with the same label apart. */
function shortId(id: string): string {
  return id.slice(0, 8);
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

@customElement('devices-dialog')
export class DevicesDialog extends DialogBase {
  @state() private devices: OwnDeviceView[] | null = null;
  /** The device whose Remove was pressed once; a second press removes it. */
  @state() private confirming = '';

  protected get heading() {
    return 'Your devices';
  }
  protected get confirmLabel() {
    return '';
  }
  protected override get cancelLabel() {
    return 'Close';
  }
  protected body() {
    const keys = this.chat.store?.keys;
    return html`
      <p class="hint intro">${keys?.name === 'ready'
        ? 'This browser holds end-to-end keys for your account. Each device below has its own keys, certified by your account key; a removed device is signed out and needs the recovery key to come back.'
        : keys?.name === 'unavailable'
          ? `This browser holds no end-to-end keys: ${keys.reason}`
          : 'This browser holds no end-to-end keys for your account yet.'}</p>
      ${this.devices
        ? this.devices.length
          ? html`<ul aria-label="Devices">
              ${this.devices.map(
                (d) => html`<li>
                  <strong>${d.label}</strong>${d.current ? html` (this browser)` : ''}
                  <span class="hint">device ${shortId(d.id)}, added ${dateFormat.format(d.createdAt)}${d.certificate ? '' : ', not certified yet'}</span>
                  ${d.current
                    ? ''
                    : html`<button type="button" class="quiet" ?disabled=${this.busy} @click=${() => this.removeDevice(d)}
                        aria-label=${`${this.confirming === d.id ? 'Confirm removing' : 'Remove'} device ${shortId(d.id)}`}>${this.confirming === d.id ? 'Confirm removal' : 'Remove'}</button>`}
                </li>`,
              )}
            </ul>`
          : html`<p>No devices yet.</p>`
        : ''}
      <p class="status" role="status">${this.busy ? 'Loading devices…' : ''}</p>
    `;
  }
  /**
   * Two presses: removing a device is how a lost browser is shut out (it needs the recovery key
   * to come back), so one stray click must not do it.
   */
  private async removeDevice(d: OwnDeviceView): Promise<void> {
    if (this.confirming !== d.id) {
      this.confirming = d.id;
      return;
    }
    this.confirming = '';
    this.error = '';
    this.busy = true;
    try {
      await this.chat.store?.removeDevice(d.id);
      this.devices = (await this.chat.store?.ownDevices()) ?? null;
    } catch (err) {
      this.error = messageOf(err);
    } finally {
      this.busy = false;
    }
  }

  protected override opened(): void {
    this.devices = null;
    this.confirming = '';
    this.busy = true;
    this.chat.store?.ownDevices().then(
      (list) => {
        this.devices = list;
        this.busy = false;
      },
      (err) => {
        this.error = messageOf(err);
        this.busy = false;
      },
    );
  }
  protected async submit() {}
}

declare global {
  interface HTMLElementTagNameMap {
    'devices-dialog': DevicesDialog;
  }
}
