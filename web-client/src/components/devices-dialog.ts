/** <devices-dialog>: "Your devices", the browsers that hold this account's end-to-end keys. */
import { html } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import type { OwnDeviceView } from '../../../src/shared/mls-api.ts';
import { messageOf } from '../state/store.ts';
import { DialogBase } from './dialog-base.ts';

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

@customElement('devices-dialog')
export class DevicesDialog extends DialogBase {
  @state() private devices: OwnDeviceView[] | null = null;

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
        ? 'This browser holds end-to-end keys for your account. Each device below has its own keys, certified by your account key. Messages are not end-to-end encrypted yet: that comes in a later version of chatroom.'
        : keys?.name === 'unavailable'
          ? `This browser holds no end-to-end keys: ${keys.reason}`
          : 'This browser holds no end-to-end keys for your account yet.'}</p>
      ${this.devices
        ? this.devices.length
          ? html`<ul aria-label="Devices">
              ${this.devices.map(
                (d) => html`<li>
                  <strong>${d.label}</strong>${d.current ? html` (this browser)` : ''}
                  <span class="hint">added ${dateFormat.format(d.createdAt)}${d.certificate ? '' : ', not certified yet'}</span>
                </li>`,
              )}
            </ul>`
          : html`<p>No devices yet.</p>`
        : ''}
      <p class="status" role="status">${this.busy ? 'Loading devices…' : ''}</p>
    `;
  }
  protected override opened(): void {
    this.devices = null;
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
