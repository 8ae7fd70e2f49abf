/**
 * The WebSocket wire protocol shared by the server and the web client.
 *
 * Every frame is one JSON text frame with a discriminating `t` field. Message bodies travel as
 * standard base64 of opaque bytes: the server never decodes, parses, indexes or logs them (the
 * E2EE layer puts ciphertext there; until then the client puts its JSON content there).
 * docs/PROTOCOL.md documents these schemas; keep the two in step.
 */
import { Type, type Static } from '@sinclair/typebox';

/** Opaque ids: 1–64 chars of [A-Za-z0-9_-]. */
export const Id = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' });
/** Client-chosen id that lets a client match an ack (or error) to what it sent. */
export const ClientRef = Type.String({ minLength: 1, maxLength: 64 });
/** Standard base64 (with padding) of the opaque message body. */
export const Base64 = Type.String({ maxLength: 1_000_000, pattern: '^[A-Za-z0-9+/]*={0,2}$' });
export const Seq = Type.Integer({ minimum: 0 });

// ---------------------------------------------------------------- client → server

/** Subscribe to a conversation; the server replays every message with seq > `since`, then live. */
export const SubscribeFrame = Type.Object(
  { t: Type.Literal('sub'), conv: Id, since: Type.Optional(Seq) },
  { additionalProperties: false },
);
export const UnsubscribeFrame = Type.Object(
  { t: Type.Literal('unsub'), conv: Id },
  { additionalProperties: false },
);
/** Attachments one message may carry. */
export const MAX_BLOBS_PER_MESSAGE = 32;
/**
 * Send a message. `ref` is echoed in the ack or error. The ack follows the database commit.
 * `blobIds` ties uploaded attachments (POST /api/blobs) to this message, so they are deleted with
 * it; each must be the sender's fully uploaded, unsent blob for this conversation, else the send
 * fails with BLOB_NOT_ATTACHABLE and nothing is stored. Their keys travel inside the body.
 */
export const SendFrame = Type.Object(
  {
    t: Type.Literal('send'),
    ref: ClientRef,
    conv: Id,
    body: Base64,
    blobIds: Type.Optional(Type.Array(Id, { minItems: 1, maxItems: MAX_BLOBS_PER_MESSAGE })),
  },
  { additionalProperties: false },
);
/** "I am typing" — relayed to the other subscribers, never stored. */
export const TypingFrame = Type.Object(
  { t: Type.Literal('typing'), conv: Id },
  { additionalProperties: false },
);
/** Mark everything up to `seq` as read (drives unread counts on the user's other sessions too). */
export const ReadFrame = Type.Object(
  { t: Type.Literal('read'), conv: Id, seq: Seq },
  { additionalProperties: false },
);
export const PingFrame = Type.Object({ t: Type.Literal('ping') }, { additionalProperties: false });

export const ClientFrame = Type.Union([
  SubscribeFrame,
  UnsubscribeFrame,
  SendFrame,
  TypingFrame,
  ReadFrame,
  PingFrame,
]);
export type ClientFrame = Static<typeof ClientFrame>;

// ---------------------------------------------------------------- server → client

/** One stored message. `seq` is per conversation, starts at 1, and has no gaps. */
export const MessageFrame = Type.Object({
  t: Type.Literal('msg'),
  conv: Id,
  seq: Seq,
  sender: Id,
  /** Sender's username at send time, for display. */
  senderName: Type.String(),
  /** Server receive time, ms since the Unix epoch. */
  ts: Type.Integer(),
  body: Base64,
});
export type MessageFrame = Static<typeof MessageFrame>;

export const AckFrame = Type.Object({
  t: Type.Literal('ack'),
  ref: ClientRef,
  conv: Id,
  seq: Seq,
  ts: Type.Integer(),
});
/** Sent after a `sub` once the replay of missed messages is complete; `head` is the newest seq. */
export const SubscribedFrame = Type.Object({ t: Type.Literal('subscribed'), conv: Id, head: Seq });
export const TypingEventFrame = Type.Object({
  t: Type.Literal('typing'),
  conv: Id,
  user: Id,
  username: Type.String(),
});
export const PresenceFrame = Type.Object({
  t: Type.Literal('presence'),
  user: Id,
  online: Type.Boolean(),
});
export const ReadEventFrame = Type.Object({ t: Type.Literal('read'), conv: Id, seq: Seq });
/**
 * The user's conversation list changed (added to a group, a new channel, kicked, ...): the client
 * refetches GET /api/conversations. When `removed` is set the user lost access to that conversation
 * and its subscription has been dropped.
 */
export const ConversationsChangedFrame = Type.Object({
  t: Type.Literal('conversations'),
  removed: Type.Optional(Id),
});
export const PongFrame = Type.Object({ t: Type.Literal('pong') });
export const ErrorFrame = Type.Object({
  t: Type.Literal('error'),
  /** Stable code from src/shared/errors.ts. */
  code: Type.String(),
  message: Type.String(),
  ref: Type.Optional(ClientRef),
  conv: Type.Optional(Id),
});

/** MLS: a commit was accepted for the conversation's group; `epoch` is the group's new epoch. */
export const MlsCommitFrame = Type.Object({ t: Type.Literal('mls.commit'), conv: Id, epoch: Seq, seq: Seq });
/** MLS: a Welcome waits for this device of the user (GET /api/mls/welcomes). */
export const MlsWelcomeFrame = Type.Object({ t: Type.Literal('mls.welcome'), device: Id, conv: Id });
/** MLS: a member left or was removed; the group needs a commit that removes their leaves. */
export const MlsRemovalFrame = Type.Object({ t: Type.Literal('mls.removal'), conv: Id, userId: Id });
/** MLS: `userId` joined the conversation or certified a new device; their devices may be missing from the group. */
export const MlsMembersFrame = Type.Object({ t: Type.Literal('mls.members'), conv: Id, userId: Id });

export const ServerFrame = Type.Union([
  MessageFrame,
  AckFrame,
  SubscribedFrame,
  TypingEventFrame,
  PresenceFrame,
  ReadEventFrame,
  ConversationsChangedFrame,
  PongFrame,
  ErrorFrame,
  MlsCommitFrame,
  MlsWelcomeFrame,
  MlsRemovalFrame,
  MlsMembersFrame,
]);
export type ServerFrame = Static<typeof ServerFrame>;

/** WebSocket close codes we use (4000–4999 is the application range). */
export const CloseCode = {
  /** Session signed out (this one or "sign out other sessions"). */
  signedOut: 4001,
  /** Too many frames per second, sustained. */
  rateLimited: 4008,
  /** The client did not read fast enough; the server's send buffer for it hit its cap. */
  slowReader: 4009,
  /** Server shutting down; reconnect with backoff. */
  goingAway: 1001,
} as const;
