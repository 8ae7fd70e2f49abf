/** <sign-in-view>: username + password; the password is stretched in the browser first. */
import { LitElement, html } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { messageOf } from '../state/store.ts';
import { StoreController } from '../state/store-controller.ts';
import { authStyles } from './auth-styles.ts';
import { sharedStyles } from './shared-styles.ts';

@customElement('sign-in-view')
export class SignInView extends LitElement {
  static styles = [sharedStyles, authStyles];

  @state() private error = '';
  @state() private busy = false;

  private readonly chat = new StoreController(this);

  override render() {
    const notice = this.chat.store?.notice ?? '';
    return html`
      <main>
        <h1>Sign in</h1>
        <p class="lead">${notice || 'Welcome back.'}</p>
        <form novalidate @submit=${this.submit}>
          <div class="field">
            <label for="username">Username</label>
            <input id="username" name="username" autocomplete="username" autocapitalize="off" spellcheck="false" required />
          </div>
          <div class="field">
            <label for="password">Password</label>
            <input id="password" name="password" type="password" autocomplete="current-password" required />
          </div>
          <p class="error" role="alert">${this.error}</p>
          <p class="status" role="status">${this.busy ? 'Signing in…' : ''}</p>
          <button class="primary" type="submit" ?disabled=${this.busy}>Sign in</button>
        </form>
        <p class="alt">New here? Ask for an invite link.</p>
      </main>
    `;
  }

  private async submit(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const username = (form.elements.namedItem('username') as HTMLInputElement).value.trim();
    const password = (form.elements.namedItem('password') as HTMLInputElement).value;
    if (!username || !password) {
      this.error = 'Enter your username and password.';
      return;
    }
    this.error = '';
    this.busy = true;
    try {
      await this.chat.store?.signIn(username, password);
    } catch (err) {
      this.error = messageOf(err);
    } finally {
      this.busy = false;
    }
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'sign-in-view': SignInView;
  }
}
