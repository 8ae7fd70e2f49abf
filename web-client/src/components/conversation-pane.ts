/**
 * <conversation-pane>: the open conversation — title with the end-to-end lock, key-change banner,
 * Messages log, typing notice, composer (or why this browser cannot send), members.
 */
import { LitElement, css, html, nothing } from 'lit';
import { customElement, query, state } from 'lit/decorators.js';
import type { ConversationSummary } from '../../../src/shared/api.ts';
import { StoreController } from '../state/store-controller.ts';
import type { ChatStore } from '../state/store.ts';
import type { ComposerBox } from './composer-box.ts';
import './composer-box.ts';
import './key-change-banner.ts';
import './member-list.ts';
import './message-view.ts';
import { ConfirmEvent, OpenDialogEvent, type ConfirmRequest } from './events.ts';
import { SafetyNumberEvent } from './safety-number-dialog.ts';
import { sharedStyles } from './shared-styles.ts';

@customElement('conversation-pane')
export class ConversationPane extends LitElement {
  static styles = [
    sharedStyles,
    css`
      :host { display: flex; min-height: 0; min-width: 0; }
      .main { flex: 1; display: flex; flex-direction: column; min-width: 0; min-height: 0; }
      header {
        display: flex; align-items: center; gap: var(--chat-space-2);
        height: var(--chat-header-height); padding: 0 var(--chat-space-4);
        border-bottom: var(--chat-border-width) solid var(--chat-color-border);
      }
      h1 { font-size: var(--chat-font-size-large); margin: 0; flex: 1; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
      .sigil { color: var(--chat-color-text-muted); }
      header button { font-size: var(--chat-font-size-small); padding: var(--chat-space-1) var(--chat-space-2); white-space: nowrap; }
      .e2ee { margin: 0; color: var(--chat-color-text-muted); font-size: var(--chat-font-size-small); white-space: nowrap; }
      .e2ee.verified { color: var(--chat-color-online); }
      .lock { width: 0.9em; height: 0.9em; vertical-align: -0.05em; }
      .no-keys {
        display: flex; flex-wrap: wrap; gap: var(--chat-space-2); align-items: center;
        margin: 0; padding: var(--chat-space-3) var(--chat-space-4);
        border-top: var(--chat-border-width) solid var(--chat-color-border); color: var(--chat-color-text-muted);
      }
      .no-keys span { flex: 1 1 20rem; }
      message-view { flex: 1; }
      .typing { min-height: 1.4em; margin: 0; padding: 0 var(--chat-space-4); color: var(--chat-color-text-muted); font-size: var(--chat-font-size-small); font-style: italic; }
      member-list { width: var(--chat-members-width); border-left: var(--chat-border-width) solid var(--chat-color-border); background: var(--chat-color-sidebar); overflow-y: auto; }
      .offline { padding: var(--chat-space-1) var(--chat-space-4); background: var(--chat-color-surface-raised); color: var(--chat-color-text-muted); font-size: var(--chat-font-size-small); }
      .empty { margin: auto; color: var(--chat-color-text-muted); padding: var(--chat-space-5); text-align: center; }
      .members-toggle { display: none; }
      @media (max-width: 900px) {
        .members-toggle { display: inline-block; }
        member-list { display: none; }
        :host([members-open]) member-list { display: block; position: absolute; right: 0; top: var(--chat-header-height); bottom: 0; z-index: 2; }
      }
    `,
  ];

  @state() private membersOpen = false;
  @query('composer-box') private composer?: ComposerBox;
  private readonly chat = new StoreController(this);

  override render() {
    const store = this.chat.store;
    const c = store?.active;
    if (!store || !c) {
      const waiting = store?.activeId && store.list.servers.length + store.list.groups.length + store.list.dms.length === 0;
      return html`<div class="main"><p class="empty">${waiting ? 'Loading…' : 'Pick a conversation, or start one: New direct message, New group or Create server.'}</p></div>`;
    }
    const sigil = c.kind === 'channel' ? '#' : c.kind === 'dm' ? '@' : '◆';
    const typists = store.typistsOf(c.id);
    return html`
      <section class="main" aria-label=${c.name}>
        <header>
          <h1><span class="sigil" aria-hidden="true">${sigil}</span> ${c.name}</h1>
          ${this.lock(store)}
          ${this.verifyDm(store, c)}
          ${this.membershipActions(store, c)}
          <button type="button" class="quiet members-toggle" aria-expanded=${this.membersOpen ? 'true' : 'false'}
            @click=${() => (this.membersOpen = !this.membersOpen)}>Members</button>
        </header>
        ${store.connection !== 'open' ? html`<p class="offline" role="status">Reconnecting…</p>` : nothing}
        <key-change-banner .conv=${c.id}></key-change-banner>
        <message-view .conv=${c.id}></message-view>
        <p class="typing" aria-live="polite">${typingText(typists.map((t) => t.username))}</p>
        ${this.composerOrWhy(store, c)}
      </section>
      <member-list .conv=${c.id}></member-list>
    `;
  }

  /** The lock: shown only when this browser really seals and opens this conversation's messages. */
  private lock(store: ChatStore) {
    if (!store.encrypted) return nothing;
    return html`<p class="e2ee" role="note" aria-label="End-to-end encrypted"
      title="Only the members’ devices hold the keys to these messages. The server stores and relays them encrypted."><svg class="lock" viewBox="0 0 16 16" aria-hidden="true"><path d="M5 7V5a3 3 0 0 1 6 0v2" fill="none" stroke="currentColor" stroke-width="2"></path><rect x="3" y="7" width="10" height="8" rx="1" fill="currentColor"></rect></svg> End-to-end encrypted</p>`;
  }

  /** In a DM: the safety number with the other person. */
  private verifyDm(store: ChatStore, c: ConversationSummary) {
    if (c.kind !== 'dm' || !store.encrypted) return nothing;
    const other = store.membersOf(c.id).find((m) => m.id !== store.session?.user.id);
    if (!other) return nothing;
    return html`${store.isVerified(other.id) ? html`<span class="e2ee verified">Verified</span>` : nothing}
      <button type="button" class="quiet" aria-label=${`Verify safety number with ${other.username}`}
        @click=${() => this.dispatchEvent(new SafetyNumberEvent(other.id, other.username))}>Verify safety number</button>`;
  }

  /** The composer, or (without usable keys) why this browser cannot send and what to do. */
  private composerOrWhy(store: ChatStore, c: ConversationSummary) {
    const blocked = store.sendBlock;
    if (blocked) {
      return html`<div class="no-keys" role="status">
        <span>${blocked}</span>
        ${store.keys.name === 'none' ? html`<button type="button" class="primary" @click=${() => void store.createKeys()}>Set up keys</button>` : nothing}
      </div>`;
    }
    return html`<composer-box .conv=${c.id} placeholder=${`Message ${c.kind === 'channel' ? '#' : ''}${c.name}`}></composer-box>`;
  }

  /** Add people / Leave group for a group; Leave server for a channel of a server this user does not own. */
  private membershipActions(store: ChatStore, c: ConversationSummary) {
    if (c.kind === 'group') {
      return html`
        <button type="button" @click=${() => this.dispatchEvent(new OpenDialogEvent('add-member', undefined, c.id))}>Add people</button>
        <button type="button" class="quiet" @click=${() => this.confirm({
          heading: `Leave ${c.name}?`,
          text: 'You will stop getting its messages. Someone in the group has to add you again to come back.',
          confirmLabel: 'Leave group',
          action: () => store.leaveGroup(c.id),
        })}>Leave group</button>
      `;
    }
    const server = store.activeServer;
    if (c.kind === 'channel' && server && server.role !== 'owner') {
      return html`<button type="button" class="quiet" @click=${() => this.confirm({
        heading: `Leave ${server.name}?`,
        text: 'You will lose every channel of this server. You need a new invite to come back.',
        confirmLabel: 'Leave server',
        action: () => store.leaveServer(server.id),
      })}>Leave server</button>`;
    }
    return nothing;
  }

  private confirm(request: ConfirmRequest): void {
    this.dispatchEvent(new ConfirmEvent(request));
  }

  protected override updated(): void {
    this.toggleAttribute('members-open', this.membersOpen);
  }

  /** Focuses the composer (used by the skip link). */
  focusComposer(): void {
    this.composer?.focus();
  }
}

/** "alice is typing…", "alice and bob are typing…", "Several people are typing…". */
export function typingText(names: string[]): string {
  if (names.length === 0) return '';
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  return 'Several people are typing…';
}

declare global {
  interface HTMLElementTagNameMap {
    'conversation-pane': ConversationPane;
  }
}
