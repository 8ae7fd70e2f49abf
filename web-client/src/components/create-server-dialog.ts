/** <create-server-dialog>: a new server (you own it; it starts with a general channel). */
import { customElement } from 'lit/decorators.js';
import { DialogBase, field, nameField } from './dialog-base.ts';

@customElement('create-server-dialog')
export class CreateServerDialog extends DialogBase {
  protected get heading() {
    return 'Create server';
  }
  protected get confirmLabel() {
    return 'Create';
  }
  protected body() {
    return nameField('server-name', 'Server name');
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
