/**
 * <chat-app>: the root. Owns and provides the store, picks the screen for the route (sign-up,
 * sign-in, or the chat layout), and hosts the dialogs the rest of the UI asks for.
 */
import { ContextProvider } from '@lit/context';
import { LitElement, css, html, nothing } from 'lit';
import { customElement, query, state } from 'lit/decorators.js';
import { ChatStore, messageOf, storeContext } from '../state/store.ts';
import type { AddChannelDialog } from './add-channel-dialog.ts';
import './add-channel-dialog.ts';
import type { AddMemberDialog } from './add-member-dialog.ts';
import './add-member-dialog.ts';
import type { ConfirmDialog } from './confirm-dialog.ts';
import './confirm-dialog.ts';
import './conversation-list.ts';
import type { ConversationPane } from './conversation-pane.ts';
import './conversation-pane.ts';
import './create-server-dialog.ts';
import type { DialogBase } from './dialog-base.ts';
import { ConfirmEvent, ConversationPickedEvent, OpenDialogEvent } from './events.ts';
import './invite-dialog.ts';
import './new-dm-dialog.ts';
import './new-group-dialog.ts';
import './devices-dialog.ts';
import './recovery-key-view.ts';
import './restore-keys-view.ts';
import { SafetyNumberEvent, type SafetyNumberDialog } from './safety-number-dialog.ts';
import { sharedStyles } from './shared-styles.ts';
import { THEME_CHANGE_EVENT, parseThemeChoice, setThemeChoice, themeChoice } from '../theme.ts';
import './sign-in-view.ts';
import './sign-up-view.ts';

@customElement('chat-app')
export class ChatApp extends LitElement {
  static styles = [
    sharedStyles,
    css`
      :host { display: block; height: 100%; }
      .skip {
        position: absolute; left: var(--chat-space-2); top: 0; z-index: 10; transform: translateY(-200%);
        background: var(--chat-color-accent); color: var(--chat-color-accent-text); border-color: var(--chat-color-accent);
      }
      .skip:focus { transform: translateY(var(--chat-space-2)); }
      .shell { display: grid; grid-template-columns: var(--chat-sidebar-width) 1fr; grid-template-rows: auto 1fr; height: 100%; }
      .topbar {
        grid-column: 1 / -1; display: flex; align-items: center; gap: var(--chat-space-2);
        min-height: var(--chat-header-height);
        padding: var(--chat-space-2) var(--chat-space-3);
        background: var(--chat-color-sidebar); border-bottom: var(--chat-border-width) solid var(--chat-color-border);
      }
      .brand { font-weight: 700; flex: 1; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
      .me { color: var(--chat-color-text-muted); font-size: var(--chat-font-size-small); }
      .topbar button { font-size: var(--chat-font-size-small); padding: var(--chat-space-1) var(--chat-space-2); }
      .toggle { display: none; }
      .account { display: flex; flex-wrap: wrap; gap: var(--chat-space-2); padding: var(--chat-space-3); border-top: var(--chat-border-width) solid var(--chat-color-border); }
      .account button { font-size: var(--chat-font-size-small); padding: var(--chat-space-1) var(--chat-space-2); }
      .theme { display: flex; align-items: center; gap: var(--chat-space-2); flex-basis: 100%; font-size: var(--chat-font-size-small); color: var(--chat-color-text-muted); }
      .theme label { margin: 0; font-weight: 600; }
      .theme select {
        font: inherit; color: var(--chat-color-text); background: var(--chat-color-surface-raised);
        border: var(--chat-border-width) solid var(--chat-color-border); border-radius: var(--chat-radius-small);
        padding: var(--chat-space-1) var(--chat-space-2);
      }
      .sidebar { display: flex; flex-direction: column; justify-content: space-between; background: var(--chat-color-sidebar); border-right: var(--chat-border-width) solid var(--chat-color-border); overflow-y: auto; min-height: 0; }
      conversation-pane { min-height: 0; position: relative; background: var(--chat-color-surface); }
      .notice {
        display: flex; gap: var(--chat-space-2); align-items: center; justify-content: space-between;
        grid-column: 1 / -1; margin: 0; padding: var(--chat-space-2) var(--chat-space-3);
        background: var(--chat-color-surface-raised); color: var(--chat-color-danger);
      }
      .loading { display: grid; place-items: center; height: 100%; color: var(--chat-color-text-muted); }
      @media (max-width: 420px) {
        .me { display: none; }
      }
      @media (max-width: 720px) {
        .shell { grid-template-columns: 1fr; }
        .toggle { display: inline-block; }
        .sidebar { display: none; }
        .shell.open .sidebar { display: flex; position: fixed; inset: var(--chat-header-height) 0 0 0; z-index: 5; }
      }
    `,
  ];

  @state() private sidebarOpen = false;
  @state() private signOutMessage = '';
  @query('conversation-pane') private pane?: ConversationPane;

  private readonly store = new ChatStore();

  constructor() {
    super();
    new ContextProvider(this, { context: storeContext, initialValue: this.store });
    this.store.addEventListener('change', () => this.requestUpdate());
    this.addEventListener(OpenDialogEvent.type, (e) => this.openDialog(e));
    this.addEventListener(ConfirmEvent.type, (e) => void this.renderRoot.querySelector<ConfirmDialog>('confirm-dialog')?.ask(e.request));
    this.addEventListener(ConversationPickedEvent.type, () => (this.sidebarOpen = false));
    this.addEventListener(SafetyNumberEvent.type, (e) => void this.renderRoot.querySelector<SafetyNumberDialog>('safety-number-dialog')?.open(e.userId, e.username));
    this.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && this.sidebarOpen) this.sidebarOpen = false;
    });
  }

  /** Re-renders the Theme control when another tab changes the choice. */
  private readonly onThemeChange = (): void => this.requestUpdate();

  override connectedCallback(): void {
    super.connectedCallback();
    addEventListener(THEME_CHANGE_EVENT, this.onThemeChange);
    void this.store.boot();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    removeEventListener(THEME_CHANGE_EVENT, this.onThemeChange);
  }

  override render() {
    const s = this.store;
    if (s.booting) return html`<p class="loading" role="status">Loading…</p>`;
    if (!s.session) {
      if (s.route.name === 'setup' || s.route.name === 'invite') {
        return html`<sign-up-view .token=${s.route.token} .kind=${s.route.name}></sign-up-view>`;
      }
      return html`<sign-in-view></sign-in-view>`;
    }
    // The end-to-end keys come first: the recovery key screen right after sign-up, the restore
    // screen on a browser without the account's keys.
    const keys = s.keys;
    if (keys.name === 'checking') return html`<p class="loading" role="status">Checking your keys…</p>`;
    if (keys.name === 'new-key') return html`<recovery-key-view .recoveryKey=${keys.recoveryKey}></recovery-key-view>`;
    if (keys.name === 'restore') return html`<restore-keys-view ?hasPassphrase=${keys.hasPassphrase}></restore-keys-view>`;
    return html`
      <button class="skip" type="button" @click=${() => this.pane?.focusComposer()}>Skip to message composer</button>
      <div class=${this.sidebarOpen ? 'shell open' : 'shell'}>
        <header class="topbar">
          <button class="toggle" type="button" aria-expanded=${this.sidebarOpen ? 'true' : 'false'} aria-controls="sidebar"
            @click=${() => (this.sidebarOpen = !this.sidebarOpen)}>${this.sidebarOpen ? 'Hide conversations' : 'Show conversations'}</button>
          <span class="brand">${s.session.instance.name}</span>
          <span class="me">Signed in as ${s.session.user.username}</span>
        </header>
        ${s.notice || this.signOutMessage
          ? html`<p class="notice" role="alert">
              <span>${s.notice || this.signOutMessage}</span>
              <button type="button" class="quiet" @click=${this.dismiss}>Dismiss</button>
            </p>`
          : nothing}
        <div class="sidebar" id="sidebar">
          <conversation-list></conversation-list>
          <div class="account">
            <button type="button" @click=${() => void s.signOut()}>Sign out</button>
            <button type="button" @click=${() => this.dispatchEvent(new OpenDialogEvent('devices'))}>Your devices</button>
            <button type="button" title="Signs out every other browser and device signed in as you" @click=${this.signOutOthers}>End other sessions</button>
            <div class="theme">
              <label for="theme">Theme</label>
              <select id="theme" .value=${themeChoice()} @change=${this.pickTheme}>
                <option value="dark">Dark</option>
                <option value="light">Light</option>
                <option value="system">Match system</option>
              </select>
            </div>
          </div>
        </div>
        <conversation-pane id="main"></conversation-pane>
      </div>
      <new-dm-dialog></new-dm-dialog>
      <new-group-dialog></new-group-dialog>
      <create-server-dialog></create-server-dialog>
      <invite-dialog></invite-dialog>
      <add-channel-dialog></add-channel-dialog>
      <add-member-dialog></add-member-dialog>
      <confirm-dialog></confirm-dialog>
      <devices-dialog></devices-dialog>
      <safety-number-dialog></safety-number-dialog>
    `;
  }

  private openDialog(e: OpenDialogEvent): void {
    const dialog = this.renderRoot.querySelector<DialogBase>(`${e.kind}-dialog`);
    if (!dialog) return;
    if (e.kind === 'add-channel') (dialog as AddChannelDialog).serverId = e.serverId ?? '';
    if (e.kind === 'add-member') (dialog as AddMemberDialog).groupId = e.groupId ?? '';
    this.sidebarOpen = false;
    void dialog.show();
  }

  private async signOutOthers(): Promise<void> {
    try {
      await this.store.signOutOthers();
      this.signOutMessage = 'Your other sessions were signed out.';
    } catch (err) {
      this.signOutMessage = messageOf(err);
    }
  }

  private pickTheme(e: Event): void {
    setThemeChoice(parseThemeChoice((e.currentTarget as HTMLSelectElement).value));
  }

  private dismiss(): void {
    this.signOutMessage = '';
    this.store.dismissNotice();
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'chat-app': ChatApp;
  }
}
