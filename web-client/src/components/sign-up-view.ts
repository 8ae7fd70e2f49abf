/** <sign-up-view>: create an account from an admin setup link or an invite link. */
import { LitElement, css, html } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { InviteInfo } from '../../../src/shared/api.ts';
import { api } from '../state/api.ts';
import { PASSWORD_MIN_LENGTH, USERNAME_PATTERN, passwordProblem } from '../state/auth.ts';
import { messageOf } from '../state/store.ts';
import { StoreController } from '../state/store-controller.ts';
import { authStyles } from './auth-styles.ts';
import { sharedStyles } from './shared-styles.ts';

const usernameRe = new RegExp(USERNAME_PATTERN);

/**
 * The certificate fingerprint an invite link carries in its fragment (`#sha256=<64 hex>`, see
 * src/tls/fingerprint.ts), as colon hex the way browsers show it; '' when there is none.
 */
export function fingerprintFromHash(hash: string): string {
  const m = /(?:^#|&)sha256=([0-9A-Fa-f]{64})(?:&|$)/.exec(hash);
  return m ? m[1].toUpperCase().replace(/(..)(?!$)/g, '$1:') : '';
}

const fingerprintStyles = css`
  .fingerprint {
    border: var(--chat-border-width) solid var(--chat-color-border);
    border-radius: var(--chat-radius-medium);
    padding: var(--chat-space-3);
    margin: 0 0 var(--chat-space-4);
    font-size: var(--chat-font-size-small);
  }
  .fingerprint h2 { font-size: var(--chat-font-size); margin: 0 0 var(--chat-space-2); }
  .fingerprint p { margin: 0 0 var(--chat-space-2); color: var(--chat-color-text-muted); }
  .fingerprint code { display: block; font-family: var(--chat-font-mono); word-break: break-all; color: var(--chat-color-text); margin: 0 0 var(--chat-space-2); }
`;

@customElement('sign-up-view')
export class SignUpView extends LitElement {
  static styles = [sharedStyles, authStyles, fingerprintStyles];

  /** Token from /setup/<token> or /invite/<token>. */
  @property() token = '';
  @property() kind: 'setup' | 'invite' = 'invite';
  @state() private info: InviteInfo | null = null;
  @state() private error = '';
  @state() private busy = false;
  /** SHA-256 of the server's self-signed certificate from the link, for comparing with the browser's; '' when none. */
  @state() private fingerprint = '';
  /** The password field's own message, shown under it; '' when the field is fine. */
  @state() private passwordError = '';

  private readonly chat = new StoreController(this);

  override connectedCallback(): void {
    super.connectedCallback();
    this.fingerprint = fingerprintFromHash(location.hash);
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
        ${this.fingerprint ? this.renderFingerprint() : ''}
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

  private renderFingerprint() {
    return html`
      <section class="fingerprint" aria-labelledby="fingerprint-title">
        <h2 id="fingerprint-title">Check the certificate</h2>
        <p>This chatroom uses a certificate made by its host. Your browser's certificate details (the "Not secure" or padlock sign next to the address) should show this SHA-256 fingerprint:</p>
        <code aria-label="Expected SHA-256 fingerprint">${this.fingerprint}</code>
        <p>If it is different, do not create an account here: ask the person who invited you.</p>
      </section>
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
