/** <add-member-dialog>: adds someone to the open group by username. */
import { customElement, property } from 'lit/decorators.js';
import { DialogBase, field, usernameField } from './dialog-base.ts';

@customElement('add-member-dialog')
export class AddMemberDialog extends DialogBase {
  @property() groupId = '';

  protected get heading() {
    return 'Add people';
  }
  protected get confirmLabel() {
    return 'Add to group';
  }
  protected body() {
    return usernameField('member-username');
  }
  protected async submit(form: HTMLFormElement) {
    const username = field(form, 'username');
    if (!username) throw new Error('Enter the username of the person to add.');
    await this.chat.store?.addGroupMember(this.groupId, username);
    this.close();
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'add-member-dialog': AddMemberDialog;
  }
}
