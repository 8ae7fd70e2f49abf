/** <new-dm-dialog>: start (or reopen) a direct message with one username. */
import { html } from 'lit';
import { customElement } from 'lit/decorators.js';
import { DialogBase, field } from './dialog-base.ts';

@customElement('new-dm-dialog')
export class NewDmDialog extends DialogBase {
  protected get heading() {
    return 'New direct message';
  }
  protected get confirmLabel() {
    return 'Start conversation';
  }
  protected body() {
    return html`<div class="field">
      <label for="dm-username">Username</label>
      <input id="dm-username" name="username" autocomplete="off" autocapitalize="off" spellcheck="false" required />
    </div>`;
  }
  protected async submit(form: HTMLFormElement) {
    const username = field(form, 'username');
    if (!username) throw new Error('Enter the username of the person to message.');
    await this.chat.store?.createDm(username);
    this.close();
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'new-dm-dialog': NewDmDialog;
  }
}
