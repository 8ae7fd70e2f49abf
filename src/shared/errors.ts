/**
 * Stable error codes, one table for the CLI, the HTTP API and the WebSocket. Tests assert on
 * `code`, never on message text. HTTP errors are `{ error: { code, message } }` with the status here.
 */
export const ErrorCodes = {
  // usage and configuration (CLI exit 2)
  CONFIG_MISSING: { status: 0, message: 'No chatroom.yaml here: run `chatroom init` first.' },
  CONFIG_INVALID: { status: 0, message: 'The configuration has an invalid value.' },
  USAGE: { status: 0, message: 'Invalid command-line usage.' },
  PORT_IN_USE: { status: 0, message: 'The port is already in use.' },
  SCHEMA_TOO_NEW: { status: 0, message: 'The database was written by a newer chatroom.' },

  // HTTP / WebSocket
  BAD_REQUEST: { status: 400, message: 'The request is malformed.' },
  BAD_FRAME: { status: 400, message: 'The frame is not valid JSON or does not match the protocol.' },
  FRAME_TOO_LARGE: { status: 413, message: 'The frame is larger than the server accepts.' },
  BODY_TOO_LARGE: { status: 413, message: 'The message body is larger than the server accepts.' },
  UNAUTHENTICATED: { status: 401, message: 'Sign in first.' },
  BAD_CREDENTIALS: { status: 401, message: 'Wrong username or password.' },
  FORBIDDEN: { status: 403, message: 'You are not allowed to do that.' },
  BAD_ORIGIN: { status: 403, message: 'This origin is not allowed.' },
  NOT_FOUND: { status: 404, message: 'No such conversation, or you are not a member.' },
  USERNAME_TAKEN: { status: 409, message: 'That username is taken.' },
  INVALID_USERNAME: {
    status: 400,
    message: 'Usernames are 3 to 32 characters: letters, digits, dot, dash, underscore.',
  },
  INVITE_INVALID: { status: 403, message: 'This invite link is invalid, used or expired.' },
  REGISTRATION_CLOSED: { status: 403, message: 'Registration is closed on this server.' },
  BANNED: { status: 403, message: 'You are banned from this server.' },
  RATE_LIMITED: { status: 429, message: 'Too many requests: slow down and try again shortly.' },
  TOO_MANY_CONNECTIONS: { status: 429, message: 'Too many connections from your address.' },
  // MLS delivery service (src/shared/mls-api.ts)
  MLS_NO_DEVICE: { status: 403, message: 'Register this browser as a device first (or rebind it after signing in).' },
  MLS_DEVICE_EXISTS: { status: 409, message: 'This session already has a registered device.' },
  MLS_DEVICE_LIMIT: { status: 409, message: 'Too many devices: revoke one first.' },
  MLS_DEVICE_UNCERTIFIED: { status: 409, message: 'Upload this device’s certificate first (PUT /api/mls/devices/:id/certificate).' },
  MLS_KEY_PACKAGE_LIMIT: { status: 409, message: 'This device already stores as many KeyPackages as the server keeps.' },
  MLS_NO_GROUP: { status: 404, message: 'This conversation has no MLS group yet.' },
  MLS_GROUP_EXISTS: { status: 409, message: 'This conversation already has an MLS group: join it through a Welcome.' },
  MLS_STALE_EPOCH: { status: 409, message: 'The group has moved on: process the newer commits, then retry.' },
  MLS_WELCOME_TARGET: { status: 400, message: 'A Welcome is addressed to a device outside this conversation.' },
  MLS_VERSION_CONFLICT: { status: 409, message: 'A newer version is stored: fetch it, merge, and retry.' },
  MLS_VERSION_REQUIRED: { status: 428, message: 'Send If-Match with the version you read ("0" when there is none).' },
  MLS_BAD_COMMIT: { status: 400, message: 'The commit is not an MLS commit message for this group and epoch.' },
  MLS_WELCOME_INBOX_FULL: { status: 507, message: 'A device this Welcome is addressed to has too many Welcomes waiting: it must pick them up first.' },
  // attachments (src/server/routes/blobs.ts)
  BLOB_NOT_FOUND: { status: 404, message: 'No such attachment, or you may not see it.' },
  BLOB_TOO_LARGE: { status: 413, message: 'The attachment is larger than this server accepts.' },
  UPLOAD_QUOTA_EXCEEDED: { status: 507, message: 'Your attachment storage on this server is full: older attachments go with their messages, or ask the operator for more.' },
  UPLOAD_OFFSET: { status: 409, message: 'The upload does not continue where the server\'s copy ends: resume at `received`.' },
  UPLOAD_BUSY: { status: 409, message: 'Another request is uploading this attachment right now.' },
  BLOB_CONTENT_TYPE: { status: 415, message: 'Send attachment bytes as application/octet-stream, with nothing about the file (no name, no type).' },
  BLOB_NOT_ATTACHABLE: { status: 400, message: 'An attachment is not yours, not fully uploaded, already sent or for another conversation.' },
  INTERNAL: { status: 500, message: 'Something went wrong on the server.' },
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

/** An error with a stable code; the CLI maps it to an exit code, the server to an HTTP status. */
export class ChatroomError extends Error {
  readonly code: ErrorCode;
  /** Extra fields for the JSON error (e.g. the config key). Never user content or addresses. */
  readonly details: Record<string, unknown>;
  constructor(code: ErrorCode, message?: string, details: Record<string, unknown> = {}) {
    super(message ?? ErrorCodes[code].message);
    this.name = 'ChatroomError';
    this.code = code;
    this.details = details;
  }
  get status(): number {
    return ErrorCodes[this.code].status || 500;
  }
}
