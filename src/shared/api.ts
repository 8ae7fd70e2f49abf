/**
 * The HTTP JSON API shared by the server (route schemas) and the web client (types).
 * Every route is under /api; errors are `{ error: { code, message } }` (src/shared/errors.ts).
 * Authorization: a conversation the caller may not see answers exactly like one that does not
 * exist (404 NOT_FOUND), so ids reveal nothing.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Id, Seq } from './protocol.ts';

export const Username = Type.String({ minLength: 3, maxLength: 32, pattern: '^[A-Za-z0-9._-]+$' });
/** Display names of servers, channels and groups. */
export const Name = Type.String({ minLength: 1, maxLength: 64 });
export const B64 = Type.String({ minLength: 1, maxLength: 1024, pattern: '^[A-Za-z0-9+/]*={0,2}$' });

/**
 * Password handling: the client stretches the password with PBKDF2-SHA256 (`iterations`, ≥ 600,000)
 * and a per-user 16-byte random `salt`, derives `loginKey = HKDF-SHA256(root, info "chatroom/auth")`
 * (32 bytes), and sends only that. The server stores argon2id(loginKey). See web-client/src/auth.ts.
 */
export const MIN_PBKDF2_ITERATIONS = 600_000;

// POST /api/auth/params — salt lookup before sign-in. Unknown users get a deterministic fake salt.
export const AuthParamsRequest = Type.Object({ username: Type.String({ maxLength: 64 }) }, { additionalProperties: false });
export const AuthParams = Type.Object({ salt: B64, iterations: Type.Integer() });
export type AuthParams = Static<typeof AuthParams>;

// POST /api/auth/register — `invite` is the token from a setup or invite link (optional only in open mode).
export const RegisterRequest = Type.Object(
  {
    username: Username,
    salt: B64,
    iterations: Type.Integer({ minimum: MIN_PBKDF2_ITERATIONS, maximum: 10_000_000 }),
    loginKey: B64,
    invite: Type.Optional(Type.String({ maxLength: 128 })),
  },
  { additionalProperties: false },
);
export type RegisterRequest = Static<typeof RegisterRequest>;

// POST /api/auth/login
export const LoginRequest = Type.Object(
  { username: Type.String({ maxLength: 64 }), loginKey: B64 },
  { additionalProperties: false },
);
export type LoginRequest = Static<typeof LoginRequest>;

/** Instance-wide role: the setup account is `owner`; owners/admins can invite and moderate. */
export const InstanceRole = Type.Union([Type.Literal('owner'), Type.Literal('admin'), Type.Literal('member')]);
export const ServerRole = InstanceRole;

export const Me = Type.Object({ id: Id, username: Username, role: InstanceRole });
export type Me = Static<typeof Me>;
// GET /api/me → { user: Me, instance: InstanceInfo }; register and login answer the same.
export const InstanceInfo = Type.Object({
  name: Type.String(),
  registration: Type.Union([Type.Literal('invite'), Type.Literal('open'), Type.Literal('closed')]),
});
export type InstanceInfo = Static<typeof InstanceInfo>;
export const Session = Type.Object({ user: Me, instance: InstanceInfo });
export type Session = Static<typeof Session>;

// GET /api/instance (no auth) → InstanceInfo & { needsSetup: boolean }
// GET /api/invites/:token (no auth) → InviteInfo; 404 INVITE_INVALID when used/expired/unknown.
export const InviteInfo = Type.Object({
  kind: Type.Union([Type.Literal('setup'), Type.Literal('invite')]),
  instanceName: Type.String(),
  serverName: Type.Optional(Type.String()),
});
export type InviteInfo = Static<typeof InviteInfo>;
// POST /api/invites/:token/accept (auth) → ServerSummary: a signed-in user joins the invite's server.
// POST /api/invites (instance owner/admin) { serverId? } → CreatedInvite
// POST /api/servers/:id/invites (server owner/admin) → CreatedInvite
export const CreateInviteRequest = Type.Object({ serverId: Type.Optional(Id) }, { additionalProperties: false });
export const CreatedInvite = Type.Object({ url: Type.String(), token: Type.String(), expiresAt: Type.Integer() });
export type CreatedInvite = Static<typeof CreatedInvite>;

export const ConversationKind = Type.Union([Type.Literal('channel'), Type.Literal('group'), Type.Literal('dm')]);
export type ConversationKind = Static<typeof ConversationKind>;

export const ConversationSummary = Type.Object({
  id: Id,
  kind: ConversationKind,
  /** Channel or group name; for a DM, the other person's username. */
  name: Type.String(),
  serverId: Type.Optional(Id),
  /** Newest seq (0 when empty). */
  head: Seq,
  /** Newest seq this user has read. */
  lastRead: Seq,
  unread: Type.Integer({ minimum: 0 }),
});
export type ConversationSummary = Static<typeof ConversationSummary>;

export const ServerSummary = Type.Object({
  id: Id,
  name: Type.String(),
  role: ServerRole,
  channels: Type.Array(ConversationSummary),
});
export type ServerSummary = Static<typeof ServerSummary>;

// GET /api/conversations
export const ConversationList = Type.Object({
  servers: Type.Array(ServerSummary),
  groups: Type.Array(ConversationSummary),
  dms: Type.Array(ConversationSummary),
});
export type ConversationList = Static<typeof ConversationList>;

// POST /api/servers { name } → ServerSummary (caller is owner; a `general` channel is created)
export const CreateServerRequest = Type.Object({ name: Name }, { additionalProperties: false });
// POST /api/servers/:id/channels { name } (server owner/admin) → ConversationSummary
export const CreateChannelRequest = Type.Object({ name: Name }, { additionalProperties: false });
// POST /api/servers/:id/leave → 204 (an owner cannot leave their own server: 403 FORBIDDEN)
// POST /api/servers/:id/kick { userId } and /ban { userId } (owner/admin) → 204; DELETE /api/servers/:id/bans/:userId → 204
export const MemberActionRequest = Type.Object({ userId: Id }, { additionalProperties: false });
// POST /api/groups { name, members: usernames } → ConversationSummary
export const CreateGroupRequest = Type.Object(
  { name: Name, members: Type.Array(Username, { maxItems: 256 }) },
  { additionalProperties: false },
);
// POST /api/groups/:id/members { username } (any member) → 204; POST /api/groups/:id/leave → 204
export const AddMemberRequest = Type.Object({ username: Username }, { additionalProperties: false });
// POST /api/dms { username } → ConversationSummary (the existing DM if there is one)
export const CreateDmRequest = Type.Object({ username: Username }, { additionalProperties: false });

// GET /api/conversations/:id/messages?before=<seq>&limit=<1..100, default 50>
// → { messages: StoredMessage[] (ascending seq), hasMore } — the newest page when `before` is absent.
export const HistoryQuery = Type.Object(
  { before: Type.Optional(Type.Integer({ minimum: 1 })), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })) },
  { additionalProperties: false },
);
export const StoredMessage = Type.Object({
  conv: Id,
  seq: Seq,
  sender: Id,
  senderName: Type.String(),
  ts: Type.Integer(),
  body: Type.String(),
});
export type StoredMessage = Static<typeof StoredMessage>;
export const HistoryPage = Type.Object({ messages: Type.Array(StoredMessage), hasMore: Type.Boolean() });
export type HistoryPage = Static<typeof HistoryPage>;

// GET /api/conversations/:id/members → { members: Member[] }
export const Member = Type.Object({
  id: Id,
  username: Type.String(),
  role: Type.Optional(ServerRole),
  online: Type.Boolean(),
});
export type Member = Static<typeof Member>;

/** Body of every API error. */
export const ApiError = Type.Object({
  error: Type.Object({ code: Type.String(), message: Type.String() }),
});

// ---- attachments (docs/ATTACHMENTS.md). The server stores opaque ciphertext: no name, type or size
// other than the ciphertext's. Blob ids are 22-char base64url.
// GET /api/blobs/limits → BlobLimits
export const BlobLimits = Type.Object({
  maxUploadBytes: Type.Integer(),
  quotaBytes: Type.Integer(),
  usedBytes: Type.Integer(),
  /** Client side: photos are downscaled to this many pixels on their long side before encryption. */
  photoMaxDimension: Type.Integer(),
});
export type BlobLimits = Static<typeof BlobLimits>;
// POST /api/blobs { conv, size } → 201 BlobUpload (413 BLOB_TOO_LARGE, 507 UPLOAD_QUOTA_EXCEEDED, 429 RATE_LIMITED)
export const CreateBlobRequest = Type.Object(
  { conv: Id, size: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }) },
  { additionalProperties: false },
);
export type CreateBlobRequest = Static<typeof CreateBlobRequest>;
// PUT /api/blobs/:id?offset=<bytes> (application/octet-stream: ciphertext bytes from `offset`) → BlobUpload
// GET /api/blobs/:id/upload → BlobUpload (where to resume); DELETE /api/blobs/:id → 204 (an unsent blob)
// GET /api/blobs/:id → the ciphertext (Range supported); 404 BLOB_NOT_FOUND for missing and not-yours alike
export const UploadQuery = Type.Object(
  { offset: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })) },
  { additionalProperties: false },
);
export const BlobUpload = Type.Object({
  id: Id,
  size: Type.Integer(),
  /** Bytes the server holds; the next piece starts here. */
  received: Type.Integer(),
  complete: Type.Boolean(),
});
export type BlobUpload = Static<typeof BlobUpload>;
