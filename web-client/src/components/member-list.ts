/** <member-list>: who is in the open conversation, with presence dots, verified badges and Verify safety number; Kick/Ban for server moderators. */
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { Member } from '../../../src/shared/api.ts';
import { StoreController } from '../state/store-controller.ts';
import type { ChatStore } from '../state/store.ts';
import { ConfirmEvent } from './events.ts';
import { SafetyNumberEvent } from './safety-number-dialog.ts';
import { sharedStyles } from './shared-styles.ts';

@customElement('member-list')
export class MemberList extends LitElement {
  static styles = [
    sharedStyles,
    css`
      :host { display: block; }
      aside { padding: var(--chat-space-3); }
      h2 { font-size: var(--chat-font-size-small); text-transform: uppercase; letter-spacing: 0.04em; color: var(--chat-color-text-muted); margin: 0 0 var(--chat-space-2); }
      ul { list-style: none; margin: 0; padding: 0; }
      li { display: flex; align-items: center; gap: var(--chat-space-2); padding: var(--chat-space-1) 0; }
      .dot { width: var(--chat-presence-dot-size); height: var(--chat-presence-dot-size); border-radius: var(--chat-radius-round); background: var(--chat-color-offline); flex: none; }
      .dot.online { background: var(--chat-color-online); }
      .role { color: var(--chat-color-text-muted); font-size: var(--chat-font-size-small); }
      .name { flex: 1; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
      .moderate { display: flex; gap: var(--chat-space-1); }
      .moderate button { font-size: var(--chat-font-size-small); padding: 0 var(--chat-space-1); }
      .moderate button.ban { color: var(--chat-color-danger); }
      .verified { color: var(--chat-color-online); font-size: var(--chat-font-size-small); }
      .verify { font-size: var(--chat-font-size-small); padding: 0 var(--chat-space-1); }
    `,
  ];

  @property() conv = '';
  private readonly chat = new StoreController(this);

  override render() {
    const store = this.chat.store;
    if (!store) return nothing;
    const members = [...store.membersOf(this.conv)].sort(
      (a, b) => Number(b.online) - Number(a.online) || a.username.localeCompare(b.username),
    );
    return html`
      <aside aria-label="Members">
        <h2>Members — ${members.length}</h2>
        <ul>
          ${members.map(
            (m) => html`<li>
              <span class=${m.online ? 'dot online' : 'dot'} aria-hidden="true"></span>
              <span class="name">${m.username}</span>
              <span class="visually-hidden">${m.online ? 'online' : 'offline'}</span>
              ${m.role && m.role !== 'member' ? html`<span class="role">${m.role}</span>` : nothing}
              ${store.isVerified(m.id) ? html`<span class="verified" title="You compared safety numbers with ${m.username}">✓ verified</span>` : nothing}
              ${store.encrypted && m.id !== store.session?.user.id
                ? html`<button type="button" class="quiet verify" aria-label=${`Verify safety number with ${m.username}`} title="Verify safety number"
                    @click=${() => this.dispatchEvent(new SafetyNumberEvent(m.id, m.username))}>Verify</button>`
                : nothing}
              ${store.canModerate(m) ? this.moderation(store, m) : nothing}
            </li>`,
          )}
        </ul>
      </aside>
    `;
  }

  private moderation(store: ChatStore, m: Member) {
    const server = store.activeServer?.name ?? 'the server';
    const ask = (ban: boolean) =>
      this.dispatchEvent(new ConfirmEvent({
        heading: `${ban ? 'Ban' : 'Kick'} ${m.username}?`,
        text: ban
          ? `${m.username} leaves ${server} now and cannot rejoin, even with an invite.`
          : `${m.username} leaves ${server} now; a new invite lets them back in.`,
        confirmLabel: ban ? `Ban ${m.username}` : `Kick ${m.username}`,
        action: () => store.removeFromServer(m.id, ban),
      }));
    return html`<span class="moderate">
      <button type="button" class="quiet" aria-label=${`Kick ${m.username}`} title=${`Kick ${m.username}`} @click=${() => ask(false)}>Kick</button>
      <button type="button" class="quiet ban" aria-label=${`Ban ${m.username}`} title=${`Ban ${m.username}`} @click=${() => ask(true)}>Ban</button>
    </span>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'member-list': MemberList;
  }
}
