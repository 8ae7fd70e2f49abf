/** <create-server-dialog>: a new server (you own it; it starts with a general channel). */
import { html } from 'lit';
import { customElement } from 'lit/decorators.js';
import { DialogBase, field } from './dialog-base.ts';

@customElement('create-server-dialog')
export class CreateServerDialog extends DialogBase {
  protected get heading() {
    return 'Create server';
  }
  protected get confirmLabel() {
    return 'Create';
  }
  protected body() {
    return html`<div class="field">
      <label for="server-name">Server name</label>
      <input id="server-name" name="name" maxlength="64" autocomplete="off" required />
    </div>`;
  }
  protected async submit(form: HTMLFormElement) {
    const name = field(form, 'name');
    if (!name) throw new Error('Give the server a name.');
    await this.chat.store?.createServer(name);
    this.close();
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'create-server-dialog': CreateServerDialog;
  }
}
