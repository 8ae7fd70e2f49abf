/**
 * <restore-keys-view>: a browser signed in to an account whose end-to-end keys it does not hold.
 * The recovery key (or the backup passphrase) unlocks the server's backup here; this browser then
 * becomes a new device of the account. A wrong key changes nothing and can be retried.
 */
import { LitElement, html } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { messageOf } from '../state/store.ts';
import { StoreController } from '../state/store-controller.ts';
import { authStyles } from './auth-styles.ts';
import { sharedStyles } from './shared-styles.ts';

@customElement('restore-keys-view')
export class RestoreKeysView extends LitElement {
  static styles = [sharedStyles, authStyles];

  /** The account's backup also has a passphrase wrap. */
  @property({ type: Boolean }) hasPassphrase = false;
  @state() private usePassphrase = false;
  @state() private error = '';
  @state() private busy = false;
  private readonly chat = new StoreController(this);

  override render() {
    const username = this.chat.store?.session?.user.username ?? '';
    return html`
      <main>
        <h1>Unlock your keys on this browser</h1>
        <p class="lead">This browser has no end-to-end keys for ${username} yet. Enter the recovery key you saved when you created the account${this.hasPassphrase ? ', or your backup passphrase' : ''}.</p>
        <form novalidate @submit=${this.submit}>
          ${this.usePassphrase
            ? html`<div class="field">
                <label for="passphrase">Backup passphrase</label>
                <input id="passphrase" name="secret" type="password" autocomplete="off" required aria-describedby="secret-hint" />
                <p class="hint" id="secret-hint">Unlocking with a passphrase takes a few seconds.</p>
              </div>`
            : html`<div class="field">
                <label for="recovery-key">Recovery key</label>
                <input id="recovery-key" name="secret" autocomplete="off" autocapitalize="characters" spellcheck="false" required
                  aria-describedby="secret-hint" />
                <p class="hint" id="secret-hint">56 letters and digits; spaces, dashes and case do not matter.</p>
              </div>`}
          <p class="error" role="alert">${this.error}</p>
          <p class="status" role="status">${this.busy ? 'Unlocking…' : ''}</p>
          <button class="primary" type="submit" ?disabled=${this.busy}>Unlock</button>
        </form>
        ${this.hasPassphrase
          ? html`<p class="alt"><button type="button" class="quiet" @click=${this.toggle}>${this.usePassphrase ? 'Use the recovery key instead' : 'Use the backup passphrase instead'}</button></p>`
          : ''}
        <p class="alt">Lost it? Nobody can recover it for you, and resetting an account’s keys is not available yet. <button type="button" class="quiet" @click=${this.signOut}>Sign out</button></p>
      </main>
    `;
  }

  private toggle(): void {
    this.usePassphrase = !this.usePassphrase;
    this.error = '';
  }

  private signOut(): void {
    void this.chat.store?.signOut();
  }

  private async submit(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    if (this.busy) return;
    const input = (e.currentTarget as HTMLFormElement).elements.namedItem('secret') as HTMLInputElement;
    const secret = input.value;
    if (!secret.trim()) {
      this.error = this.usePassphrase ? 'Enter your backup passphrase.' : 'Enter your recovery key.';
      input.focus();
      return;
    }
    this.error = '';
    this.busy = true;
    try {
      await this.chat.store?.restoreKeys(this.usePassphrase ? { passphrase: secret } : { recoveryKey: secret });
    } catch (err) {
      this.error = messageOf(err);
      input.focus();
    } finally {
      this.busy = false;
    }
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'restore-keys-view': RestoreKeysView;
  }
}
