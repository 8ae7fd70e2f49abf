/** <new-group-dialog>: a named group with the given members (usernames, comma- or space-separated). */
import { html } from 'lit';
import { customElement } from 'lit/decorators.js';
import { DialogBase, field } from './dialog-base.ts';

@customElement('new-group-dialog')
export class NewGroupDialog extends DialogBase {
  protected get heading() {
    return 'New group';
  }
  protected get confirmLabel() {
    return 'Create group';
  }
  protected body() {
    return html`
      <div class="field">
        <label for="group-name">Group name</label>
        <input id="group-name" name="name" maxlength="64" autocomplete="off" required />
      </div>
      <div class="field">
        <label for="group-members">Members</label>
        <input id="group-members" name="members" autocomplete="off" autocapitalize="off" spellcheck="false"
          aria-describedby="group-members-hint" />
        <p class="hint" id="group-members-hint">Usernames, separated by commas or spaces.</p>
      </div>
    `;
  }
  protected async submit(form: HTMLFormElement) {
    const name = field(form, 'name');
    if (!name) throw new Error('Give the group a name.');
    const members = [...new Set(field(form, 'members').split(/[\s,]+/).filter(Boolean))];
    await this.chat.store?.createGroup(name, members);
    this.close();
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'new-group-dialog': NewGroupDialog;
  }
}
