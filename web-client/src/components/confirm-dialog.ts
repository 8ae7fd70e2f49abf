/** <confirm-dialog>: the confirm step before leaving a conversation or removing someone. */
import { html } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { DialogBase } from './dialog-base.ts';
import type { ConfirmRequest } from './events.ts';

@customElement('confirm-dialog')
export class ConfirmDialog extends DialogBase {
  @state() private request: ConfirmRequest = { heading: 'Are you sure?', text: '', confirmLabel: 'Confirm', action: async () => {} };

  /** Shows `request`; its action runs when the user confirms. */
  async ask(request: ConfirmRequest): Promise<void> {
    this.request = request;
    await this.show();
  }

  protected get heading() {
    return this.request.heading;
  }
  protected get confirmLabel() {
    return this.request.confirmLabel;
  }
  protected body() {
    return html`<p class="intro">${this.request.text}</p>`;
  }
  protected async submit() {
    await this.request.action();
    this.close();
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'confirm-dialog': ConfirmDialog;
  }
}
