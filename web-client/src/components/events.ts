/** Typed events components raise; they bubble and cross shadow roots so <chat-app> can react. */

export type DialogKind = 'new-dm' | 'new-group' | 'create-server' | 'invite' | 'add-channel';

/** Asks <chat-app> to open one of its dialogs (`serverId` for add-channel). */
export class OpenDialogEvent extends Event {
  static readonly type = 'chat-open-dialog';
  readonly kind: DialogKind;
  readonly serverId?: string;
  constructor(kind: DialogKind, serverId?: string) {
    super(OpenDialogEvent.type, { bubbles: true, composed: true });
    this.kind = kind;
    this.serverId = serverId;
  }
}

/** The user picked a conversation (so a collapsed sidebar can close). */
export class ConversationPickedEvent extends Event {
  static readonly type = 'chat-conversation-picked';
  constructor() {
    super(ConversationPickedEvent.type, { bubbles: true, composed: true });
  }
}

/** Retry or discard a message that failed to send (raised by <message-bubble>). */
export class MessageActionEvent extends Event {
  static readonly type = 'chat-message-action';
  readonly action: 'retry' | 'discard';
  constructor(action: 'retry' | 'discard') {
    super(MessageActionEvent.type, { bubbles: true, composed: true });
    this.action = action;
  }
}

declare global {
  interface HTMLElementEventMap {
    'chat-open-dialog': OpenDialogEvent;
    'chat-conversation-picked': ConversationPickedEvent;
    'chat-message-action': MessageActionEvent;
  }
}
