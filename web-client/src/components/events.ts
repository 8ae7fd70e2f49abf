/** Typed events components raise; they bubble and cross shadow roots so <chat-app> can react. */

export type DialogKind = 'new-dm' | 'new-group' | 'create-server' | 'invite' | 'add-channel' | 'add-member' | 'devices';

/** Asks <chat-app> to open one of its dialogs (`serverId` for add-channel, `groupId` for add-member). */
export class OpenDialogEvent extends Event {
  static readonly type = 'chat-open-dialog';
  readonly kind: DialogKind;
  readonly serverId?: string;
  readonly groupId?: string;
  constructor(kind: DialogKind, serverId?: string, groupId?: string) {
    super(OpenDialogEvent.type, { bubbles: true, composed: true });
    this.kind = kind;
    this.serverId = serverId;
    this.groupId = groupId;
  }
}

/** What a confirm step asks, and the work to run once the user confirms. */
export interface ConfirmRequest {
  heading: string;
  text: string;
  confirmLabel: string;
  /** Throw to show the error in the dialog and keep it open. */
  action: () => Promise<void>;
}

/** Asks <chat-app> to confirm a consequential action (leave, kick, ban) before running it. */
export class ConfirmEvent extends Event {
  static readonly type = 'chat-confirm';
  readonly request: ConfirmRequest;
  constructor(request: ConfirmRequest) {
    super(ConfirmEvent.type, { bubbles: true, composed: true });
    this.request = request;
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
    'chat-confirm': ConfirmEvent;
    'chat-conversation-picked': ConversationPickedEvent;
    'chat-message-action': MessageActionEvent;
  }
}
