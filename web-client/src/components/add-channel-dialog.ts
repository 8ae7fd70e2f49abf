/** <add-channel-dialog>: a new channel in a server this user owns or administers. */
import { customElement, property } from 'lit/decorators.js';
import { DialogBase, field, nameField } from './dialog-base.ts';

@customElement('add-channel-dialog')
export class AddChannelDialog extends DialogBase {
  @property() serverId = '';

  protected get heading() {
    return 'Add channel';
  }
  protected get confirmLabel() {
    return 'Add channel';
  }
  protected body() {
    return nameField('channel-name', 'Channel name');
  }
  protected async submit(form: HTMLFormElement) {
    const name = field(form, 'name');
    if (!name) throw new Error('Give the channel a name.');
    await this.chat.store?.createChannel(this.serverId, name);
    this.close();
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'add-channel-dialog': AddChannelDialog;
  }
}
