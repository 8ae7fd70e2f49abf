/**
 * <recovery-key-view>: shown once, right after the account's end-to-end keys were made. The
 * recovery key is the only way to unlock them on another browser; the server keeps only a backup
 * it cannot open. An optional passphrase wraps the same backup (Argon2id in a Worker, seconds).
 */
import { LitElement, css, html } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { MIN_PASSPHRASE_CHARS } from '../crypto/index.ts';
import { messageOf } from '../state/store.ts';
import { StoreController } from '../state/store-controller.ts';
import { authStyles } from './auth-styles.ts';
import { sharedStyles } from './shared-styles.ts';

@customElement('recovery-key-view')
export class RecoveryKeyView extends LitElement {
  static styles = [
    sharedStyles,
    authStyles,
    css`
      .key {
        display: block; font-family: var(--chat-font-mono); font-size: var(--chat-font-size-large);
        letter-spacing: 0.05em; line-height: 1.6; resize: none; margin: 0 0 var(--chat-space-2);
      }
      .why { margin: 0 0 var(--chat-space-4); padding-left: var(--chat-space-5); }
      .why li { margin-bottom: var(--chat-space-1); }
      .copy { margin-bottom: var(--chat-space-4); }
      .copy p { display: inline; margin-left: var(--chat-space-2); }
    `,
  ];

  /** The recovery key text (14 groups of 4). */
  @property() recoveryKey = '';
  @state() private copied = '';
  @state() private error = '';
  @state() private busy = false;
  private readonly chat = new StoreController(this);

  override render() {
    return html`
      <main>
        <h1>Save your recovery key</h1>
        <p class="lead">This browser now holds end-to-end keys for your account. The recovery key below unlocks them anywhere else.</p>
        <label for="recovery-key">Recovery key</label>
        <textarea id="recovery-key" class="key" readonly rows="3" spellcheck="false" data-recovery-key=${this.recoveryKey}
          .value=${this.recoveryKey} @focus=${(e: FocusEvent) => (e.target as HTMLTextAreaElement).select()}></textarea>
        <div class="copy">
          <button type="button" @click=${this.copy}>Copy recovery key</button>
          <p class="status" role="status">${this.copied}</p>
        </div>
        <ul class="why">
          <li>You need it to sign in on another browser or device, or on this one after its data is cleared.</li>
          <li>It is shown only now. Nobody can show it to you again, not even whoever runs this chatroom: the server keeps only a backup it cannot open.</li>
          <li>Keep it in a password manager or on paper, not in a chat.</li>
        </ul>
        <form novalidate @submit=${this.submit}>
          <div class="field">
            <label for="passphrase">Backup passphrase (optional)</label>
            <input id="passphrase" name="passphrase" type="password" autocomplete="new-password"
              minlength=${MIN_PASSPHRASE_CHARS} aria-describedby="passphrase-hint" />
            <p class="hint" id="passphrase-hint">Lets you unlock your keys with a passphrase instead of the recovery key. At least ${MIN_PASSPHRASE_CHARS} characters, different from your password. Setting it takes a few seconds.</p>
          </div>
          <p class="error" role="alert">${this.error}</p>
          <p class="status" role="status">${this.busy ? 'Protecting your backup with the passphrase…' : ''}</p>
          <button class="primary" type="submit" ?disabled=${this.busy}>Continue</button>
        </form>
      </main>
    `;
  }

  private async copy(): Promise<void> {
    try {
      await navigator.clipboard.writeText(this.recoveryKey);
      this.copied = 'Copied. Paste it somewhere safe now.';
    } catch {
      this.renderRoot.querySelector<HTMLTextAreaElement>('.key')?.select();
      this.copied = 'Copying is blocked here: the key is selected, copy it yourself.';
    }
  }

  private async submit(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    if (this.busy) return;
    const input = (e.currentTarget as HTMLFormElement).elements.namedItem('passphrase') as HTMLInputElement;
    const passphrase = input.value;
    if (passphrase && [...passphrase.normalize('NFKC')].length < MIN_PASSPHRASE_CHARS) {
      this.error = `A backup passphrase needs at least ${MIN_PASSPHRASE_CHARS} characters, or leave it empty.`;
      input.focus();
      return;
    }
    this.error = '';
    this.busy = true;
    try {
      await this.chat.store?.finishKeySetup(passphrase);
    } catch (err) {
      this.error = messageOf(err);
    } finally {
      this.busy = false;
    }
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'recovery-key-view': RecoveryKeyView;
  }
}
