/** <sign-up-view>: create an account from an admin setup link or an invite link. */
import { LitElement, html } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { InviteInfo } from '../../../src/shared/api.ts';
import { api } from '../state/api.ts';
import { PASSWORD_MIN_LENGTH, USERNAME_PATTERN, passwordProblem } from '../state/auth.ts';
import { messageOf } from '../state/store.ts';
import { StoreController } from '../state/store-controller.ts';
import { authStyles } from './auth-styles.ts';
import { sharedStyles } from './shared-styles.ts';

const usernameRe = new RegExp(USERNAME_PATTERN);

@customElement('sign-up-view')
export class SignUpView extends LitElement {
  static styles = [sharedStyles, authStyles];

  /** Token from /setup/<token> or /invite/<token>. */
  @property() token = '';
  @property() kind: 'setup' | 'invite' = 'invite';
  @state() private info: InviteInfo | null = null;
  @state() private error = '';
  @state() private busy = false;
  /** The password field's own message, shown under it; '' when the field is fine. */
  @state() private passwordError = '';

  private readonly chat = new StoreController(this);

  override connectedCallback(): void {
    super.connectedCallback();
    api.inviteInfo(this.token).then(
      (info) => (this.info = info),
      (err) => (this.error = messageOf(err)),
    );
  }

  override render() {
    const setup = (this.info?.kind ?? this.kind) === 'setup';
    const where = this.info?.serverName ?? this.info?.instanceName;
    return html`
      <main>
        <h1>${setup ? 'Set up your chatroom' : 'Create your account'}</h1>
        <p class="lead">
          ${setup
            ? 'This account will own this chatroom.'
            : where
              ? `You were invited to ${where}.`
              : 'You were invited to this chatroom.'}
        </p>
        <form novalidate @submit=${this.submit}>
          <div class="field">
            <label for="username">Username</label>
            <input id="username" name="username" autocomplete="username" autocapitalize="off" spellcheck="false"
              required minlength="3" maxlength="32" aria-describedby="username-hint" />
            <p class="hint" id="username-hint">3 to 32 characters: letters, digits, dot, dash, underscore.</p>
          </div>
          <div class="field">
            <label for="password">Password</label>
            <input id="password" name="password" type="password" autocomplete="new-password" required
              minlength=${PASSWORD_MIN_LENGTH} aria-invalid=${this.passwordError ? 'true' : 'false'}
              aria-describedby="password-hint password-error" @input=${this.recheckPassword} />
            <p class="hint" id="password-hint">At least ${PASSWORD_MIN_LENGTH} characters. It never leaves this device; a long passphrase is best.</p>
            <p class="error field-error" id="password-error" role="alert">${this.passwordError}</p>
          </div>
          <p class="error" role="alert">${this.error}</p>
          <p class="status" role="status">${this.busy ? 'Creating account…' : ''}</p>
          <button class="primary" type="submit" ?disabled=${this.busy}>Create account</button>
        </form>
        <p class="alt">Already have an account? <a href="/signin" @click=${this.toSignIn}>Sign in</a></p>
      </main>
    `;
  }

  private toSignIn(e: Event): void {
    e.preventDefault();
    this.chat.store?.navigate({ name: 'signin' });
  }

  /** Once a message is showing, clear it as soon as the password becomes long enough. */
  private recheckPassword(e: Event): void {
    if (!this.passwordError) return;
    this.passwordError = passwordProblem((e.currentTarget as HTMLInputElement).value) ?? '';
  }

  private async submit(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const username = (form.elements.namedItem('username') as HTMLInputElement).value.trim();
    const password = (form.elements.namedItem('password') as HTMLInputElement).value;
    if (!usernameRe.test(username)) {
      this.error = 'Usernames are 3 to 32 characters: letters, digits, dot, dash, underscore.';
      return;
    }
    this.passwordError = passwordProblem(password) ?? '';
    if (this.passwordError) {
      (form.elements.namedItem('password') as HTMLInputElement).focus();
      this.error = '';
      return;
    }
    this.error = '';
    this.busy = true;
    try {
      await this.chat.store?.register(username, password, this.token);
    } catch (err) {
      this.error = messageOf(err);
    } finally {
      this.busy = false;
    }
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'sign-up-view': SignUpView;
  }
}
