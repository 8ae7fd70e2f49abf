/** <conversation-list>: the Conversations landmark — servers → channels, groups, DMs, with unread badges. */
import { LitElement, css, html, nothing } from 'lit';
import { customElement } from 'lit/decorators.js';
import type { ConversationSummary } from '../../../src/shared/api.ts';
import { StoreController } from '../state/store-controller.ts';
import { ConversationPickedEvent, OpenDialogEvent, type DialogKind } from './events.ts';
import { sharedStyles } from './shared-styles.ts';

@customElement('conversation-list')
export class ConversationList extends LitElement {
  static styles = [
    sharedStyles,
    css`
      :host { display: block; }
      nav { display: flex; flex-direction: column; gap: var(--chat-space-4); padding: var(--chat-space-3); }
      .actions { display: grid; grid-template-columns: 1fr 1fr; gap: var(--chat-space-2); }
      .actions button { font-size: var(--chat-font-size-small); padding: var(--chat-space-2); text-align: left; }
      h2 {
        display: flex; align-items: center; justify-content: space-between;
        font-size: var(--chat-font-size-small); text-transform: uppercase; letter-spacing: 0.04em;
        color: var(--chat-color-text-muted); margin: 0 0 var(--chat-space-1); padding: 0 var(--chat-space-2);
      }
      h2 button { font-size: var(--chat-font-size-small); padding: 0 var(--chat-space-2); text-transform: none; letter-spacing: 0; }
      ul { list-style: none; margin: 0; padding: 0; }
      a {
        display: flex; align-items: center; gap: var(--chat-space-2);
        padding: var(--chat-space-2); border-radius: var(--chat-radius-small);
        color: var(--chat-color-text); text-decoration: none;
      }
      a:hover { background: var(--chat-color-hover); }
      a[aria-current='page'] { background: var(--chat-color-selected); font-weight: 600; }
      .sigil { color: var(--chat-color-text-muted); width: 1.2em; text-align: center; }
      .name { flex: 1; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
      a.unread .name { font-weight: 700; }
      .badge {
        min-width: 1.6em; padding: 0 var(--chat-space-1); border-radius: var(--chat-radius-round);
        background: var(--chat-color-badge-bg); color: var(--chat-color-badge-text);
        font-size: var(--chat-font-size-small); font-weight: 700; text-align: center;
      }
      .empty { color: var(--chat-color-text-muted); font-size: var(--chat-font-size-small); padding: 0 var(--chat-space-2); margin: 0; }
    `,
  ];

  private readonly chat = new StoreController(this);

  override render() {
    const store = this.chat.store;
    if (!store) return nothing;
    const { servers, groups, dms } = store.list;
    return html`
      <nav aria-label="Conversations">
        <div class="actions">
          ${this.action('new-dm', 'New direct message')} ${this.action('new-group', 'New group')}
          ${this.action('create-server', 'Create server')}
          ${store.canInvite ? this.action('invite', 'Invite people') : nothing}
        </div>
        ${servers.map(
          (s) => html`
            <section>
              <h2>
                <span>${s.name}</span>
                ${s.role === 'owner' || s.role === 'admin'
                  ? html`<button class="quiet" type="button" aria-label=${`Add channel to ${s.name}`}
                      title="Add channel" @click=${() => this.dispatchEvent(new OpenDialogEvent('add-channel', s.id))}>+</button>`
                  : nothing}
              </h2>
              <ul>${s.channels.map((c) => this.item(c, '#'))}</ul>
            </section>
          `,
        )}
        <section>
          <h2><span>Groups</span></h2>
          ${groups.length ? html`<ul>${groups.map((c) => this.item(c, '◆'))}</ul>` : html`<p class="empty">No groups yet.</p>`}
        </section>
        <section>
          <h2><span>Direct messages</span></h2>
          ${dms.length ? html`<ul>${dms.map((c) => this.item(c, '@'))}</ul>` : html`<p class="empty">No direct messages yet.</p>`}
        </section>
      </nav>
    `;
  }

  private action(kind: DialogKind, label: string) {
    return html`<button type="button" @click=${() => this.dispatchEvent(new OpenDialogEvent(kind))}>${label}</button>`;
  }

  private item(c: ConversationSummary, sigil: string) {
    const store = this.chat.store!;
    const unread = store.unreadOf(c.id);
    const current = store.activeId === c.id;
    const label = unread ? `${c.name}, ${unread} unread` : c.name;
    return html`
      <li>
        <a href=${`/c/${encodeURIComponent(c.id)}`} class=${unread ? 'unread' : ''} aria-label=${label}
          aria-current=${current ? 'page' : 'false'} @click=${(e: MouseEvent) => this.pick(e, c.id)}>
          <span class="sigil" aria-hidden="true">${sigil}</span>
          <span class="name">${c.name}</span>
          ${unread ? html`<span class="badge" aria-hidden="true">${unread > 99 ? '99+' : unread}</span>` : nothing}
        </a>
      </li>
    `;
  }

  private pick(e: MouseEvent, id: string): void {
    if (e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
    e.preventDefault();
    this.chat.store?.navigate({ name: 'conv', id });
    this.dispatchEvent(new ConversationPickedEvent());
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'conversation-list': ConversationList;
  }
}
