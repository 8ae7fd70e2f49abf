/** <new-dm-dialog>: start (or reopen) a direct message with one username. */
import { customElement } from 'lit/decorators.js';
import { DialogBase, field, usernameField } from './dialog-base.ts';

@customElement('new-dm-dialog')
export class NewDmDialog extends DialogBase {
  protected get heading() {
    return 'New direct message';
  }
  protected get confirmLabel() {
    return 'Start conversation';
  }
  protected body() {
    return usernameField('dm-username');
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
