/**
 * The HTTP API of the MLS delivery service (RFC 9420 §16's "DS"), shared by the server's route
 * schemas and the web client's crypto transport. Every route is under /api/mls and needs a session.
 *
 * The server never decrypts MLS: certificates, KeyPackages, Welcomes and backups are opaque bytes;
 * of a commit it reads only the cleartext MLSMessage header (version, wire format, group id, epoch,
 * content type: src/server/mls/framing.ts). Bytes travel as base64url (RFC 4648 §5, no padding)
 * in JSON, or as application/octet-stream for the two backup blobs. docs/PROTOCOL.md ("MLS delivery service")
 * describes the flows; keep the two in step.
 *
 * - One MLS group per conversation (DM, group or server channel); the MLS `group_id` is the UTF-8
 *   bytes of the conversation id, and every group route is keyed by that conversation id.
 * - A device is bound to the session that registered it (one device per session). Routes that act
 *   "as a device" use the device of the calling session; after a new sign-in the client rebinds
 *   its device with the secret it got at registration.
 * - The server picks the device id. The device certificate signs that id, so registration is two
 *   steps: POST /api/mls/devices gives the id, PUT …/certificate uploads the certificate. Until
 *   then the device is listed to no one else, and it can neither upload KeyPackages nor commit.
 * - A conversation the caller may not see answers exactly like a missing one (404 NOT_FOUND).
 */
import { Type, type Static, type TString } from '@sinclair/typebox';
import { Id, Seq } from './protocol.ts';

/** Base64url without padding of at most `maxBytes` bytes. */
export function B64Url(maxBytes: number, minBytes = 1): TString {
  return Type.String({
    minLength: Math.ceil((minBytes * 4) / 3),
    maxLength: Math.ceil((maxBytes * 4) / 3),
    pattern: '^[A-Za-z0-9_-]*$',
  });
}

/** Size limits, bytes (after base64url decoding) unless named otherwise. */
export const MlsLimits = {
  /** Device certificate: account public key + device key + signature + a little metadata. */
  certificateBytes: 4096,
  /** Device label shown to its owner only, characters. */
  labelChars: 64,
  /** Devices one user may have registered at once. */
  devicesPerUser: 16,
  /** One KeyPackage (suite 1 is ~300 B; the post-quantum suite 83 ~2.5 KB). */
  keyPackageBytes: 8192,
  /** One-time KeyPackages per upload request. */
  keyPackagesPerUpload: 100,
  /** One-time KeyPackages stored per device at most (an upload above this is refused). */
  keyPackagesPerDevice: 200,
  /** One commit (1,000 members: ~70 KB measured; 128 KiB leaves margin). */
  commitBytes: 128 * 1024,
  /** One Welcome (carries the ratchet tree: a 1,000-member Welcome measured 362 KB). */
  welcomeBytes: 1024 * 1024,
  /** Devices one Welcome may be addressed to. */
  welcomeRecipients: 1000,
  /** Log entries per page (GET log, and the catch-up list in a 409). */
  logPage: 100,
  /**
   * Commit bytes per log page and per 409 catch-up list: entries stop before this is passed (a
   * page always holds at least one entry), and `hasMore` says the client pages on.
   */
  logPageBytes: 2 * 1024 * 1024,
  /** Log pages (GET …/log) one user may read in a burst; the bucket refills over `logReadRefillMs`. */
  logReadBurst: 120,
  logReadRefillMs: 60 * 1000,
  /** Welcomes per page of GET /api/mls/welcomes, and their bytes at most (at least one per page). */
  welcomePage: 16,
  welcomePageBytes: 4 * 1024 * 1024,
  /** Welcomes waiting for one device at most: a commit addressing a full inbox is refused. */
  welcomesPerDevice: 64,
  /** A Welcome not picked up within this is deleted, ms (14 days). */
  welcomeTtlMs: 14 * 24 * 60 * 60 * 1000,
  /** The wrapped account key (and recovery metadata) blob. */
  accountKeyBytes: 16 * 1024,
  /** The wrapped epoch-key archive blob. */
  archiveBytes: 8 * 1024 * 1024,
  /** KeyPackages one requester may claim in a burst; the bucket refills over `claimRefillMs`. */
  claimBurst: 600,
  claimRefillMs: 10 * 60 * 1000,
  /**
   * One-time KeyPackages of one target user handed out in a burst, whoever asks (refills over
   * `claimRefillMs`); beyond it claims get the last-resort package, so many requesters together
   * cannot drain a user's one-time stock.
   */
  claimTargetBurst: 200,
  /** Commits one user may post in a burst (accepted or not); the bucket refills over `commitRefillMs`. */
  commitBurst: 120,
  commitRefillMs: 10 * 60 * 1000,
  /** Commit + Welcome bytes one user may post in a burst (accepted or not), refilling over `commitRefillMs`. */
  commitByteBurst: 24 * 1024 * 1024,
  /**
   * Device changes (register, set a certificate, remove) one user may make in a burst, refilling
   * over `deviceChangeRefillMs`: each one notifies every member of every conversation of the user.
   */
  deviceChangeBurst: 20,
  deviceChangeRefillMs: 10 * 60 * 1000,
  /** Members per page of GET /api/mls/groups/:id/directory. */
  directoryPage: 200,
} as const;

/** Largest JSON body of POST /api/mls/groups/:id/commits, bytes (commit + Welcome in base64url + slack). */
export const COMMIT_BODY_LIMIT = Math.ceil(((MlsLimits.commitBytes + MlsLimits.welcomeBytes) * 4) / 3) + 256 * 1024;
/** Largest JSON body of POST /api/mls/key-packages, bytes. */
export const KEY_PACKAGE_BODY_LIMIT = Math.ceil((MlsLimits.keyPackageBytes * (MlsLimits.keyPackagesPerUpload + 1) * 4) / 3) + 16 * 1024;

// ---------------------------------------------------------------- devices

/**
 * POST /api/mls/devices { label, certificate? } → 201 RegisteredDevice.
 * 409 MLS_DEVICE_EXISTS when this session already has a device; 409 MLS_DEVICE_LIMIT at
 * `devicesPerUser`. A certificate that must name the new device's id follows with
 * PUT /api/mls/devices/:id/certificate.
 */
export const RegisterDeviceRequest = Type.Object(
  {
    label: Type.String({ minLength: 1, maxLength: MlsLimits.labelChars }),
    /** The account-key-signed device certificate, opaque to the server. */
    certificate: Type.Optional(B64Url(MlsLimits.certificateBytes)),
  },
  { additionalProperties: false },
);
export type RegisterDeviceRequest = Static<typeof RegisterDeviceRequest>;

/**
 * PUT /api/mls/devices/:id/certificate { certificate } → OwnDeviceView. Only the device itself
 * (its bound session) sets or replaces its certificate; anything else is 404 NOT_FOUND.
 */
export const SetCertificateRequest = Type.Object({ certificate: B64Url(MlsLimits.certificateBytes) }, { additionalProperties: false });
export type SetCertificateRequest = Static<typeof SetCertificateRequest>;

/** A device as others see it (GET /api/mls/users/:id/devices): no label, no registration time. */
export const DeviceView = Type.Object({
  id: Id,
  userId: Id,
  certificate: Type.String(),
});
export type DeviceView = Static<typeof DeviceView>;

/** One of the caller's own devices (GET /api/mls/devices); `certificate` is '' until uploaded. */
export const OwnDeviceView = Type.Composite([
  DeviceView,
  Type.Object({
    /** Registration time, ms since the Unix epoch (shown to the owner only). */
    createdAt: Type.Integer(),
    label: Type.String(),
    /** The device bound to the calling session. */
    current: Type.Boolean(),
  }),
]);
export type OwnDeviceView = Static<typeof OwnDeviceView>;

export const RegisteredDevice = Type.Object({
  device: OwnDeviceView,
  /**
   * Shown once: keep it with the device's keys. POST /api/mls/devices/:id/rebind presents it to
   * bind the device to a new session after signing in again (the server stores only its hash).
   */
  rebindSecret: Type.String(),
});
export type RegisteredDevice = Static<typeof RegisteredDevice>;

// GET /api/mls/devices → DeviceList<OwnDeviceView>, the caller's devices
// GET /api/mls/users/:id/devices → DeviceList<DeviceView>: the caller themself, someone who shares a
//   conversation with them, or someone they may DM; anyone else (or no such user) is 404 NOT_FOUND.
export const OwnDeviceList = Type.Object({ devices: Type.Array(OwnDeviceView) });
export type OwnDeviceList = Static<typeof OwnDeviceList>;
export const DeviceList = Type.Object({ devices: Type.Array(DeviceView) });
export type DeviceList = Static<typeof DeviceList>;

/**
 * GET /api/mls/groups/:id/directory → who should be in the conversation's group: every member with
 * their certified devices, in one answer (instead of the member list plus one device list per
 * member). Members only; works before the group exists. Clients still verify every certificate.
 */
export const DirectoryMember = Type.Object({ id: Id, username: Type.String(), devices: Type.Array(DeviceView) });
export type DirectoryMember = Static<typeof DirectoryMember>;
/** Pages of `directoryPage` members in user-id order: pass `next` as `after` while `hasMore`. */
export const DirectoryQuery = Type.Object({ after: Type.Optional(Id) }, { additionalProperties: false });
export type DirectoryQuery = Static<typeof DirectoryQuery>;
export const GroupDirectory = Type.Object({ members: Type.Array(DirectoryMember), hasMore: Type.Boolean(), next: Type.Optional(Id) });
export type GroupDirectory = Static<typeof GroupDirectory>;

/** POST /api/mls/devices/:id/rebind { secret } → 204 (own device; wrong secret → 404 NOT_FOUND). */
export const RebindDeviceRequest = Type.Object({ secret: Type.String({ minLength: 1, maxLength: 128 }) }, { additionalProperties: false });
export type RebindDeviceRequest = Static<typeof RebindDeviceRequest>;

// DELETE /api/mls/devices/:id → 204 (owner only). Its KeyPackages and undelivered Welcomes are
// deleted, and each MLS group the owner is in records a pending removal (reason 'device-revoked').

// ---------------------------------------------------------------- KeyPackages

/**
 * POST /api/mls/key-packages (as the session's device) → KeyPackageCount.
 * `lastResort` replaces the device's previous last-resort package.
 * 409 MLS_KEY_PACKAGE_LIMIT when the device would hold more than `keyPackagesPerDevice`.
 */
export const UploadKeyPackagesRequest = Type.Object(
  {
    keyPackages: Type.Array(B64Url(MlsLimits.keyPackageBytes), { maxItems: MlsLimits.keyPackagesPerUpload }),
    lastResort: Type.Optional(B64Url(MlsLimits.keyPackageBytes)),
  },
  { additionalProperties: false },
);
export type UploadKeyPackagesRequest = Static<typeof UploadKeyPackagesRequest>;

/** GET /api/mls/key-packages → KeyPackageCount for the session's device (top up when low). */
export const KeyPackageCount = Type.Object({
  /** One-time packages not yet handed out. */
  oneTime: Type.Integer({ minimum: 0 }),
  hasLastResort: Type.Boolean(),
});
export type KeyPackageCount = Static<typeof KeyPackageCount>;

/**
 * POST /api/mls/users/:id/key-packages/claim { devices? } → ClaimedKeyPackages: one package per
 * device of that user (or of the listed devices), never for the caller's own device. A one-time
 * package is handed out once and deleted; when none is left the last-resort one is returned (and
 * kept). Devices with neither are listed in `exhausted`. Who may claim: as for the device list.
 * Rate limited per caller, one token per package: 429 RATE_LIMITED with Retry-After. Per target
 * user (`claimTargetBurst`, all callers together): beyond it the last-resort package is handed out.
 */
export const ClaimKeyPackagesRequest = Type.Object(
  { devices: Type.Optional(Type.Array(Id, { minItems: 1, maxItems: MlsLimits.devicesPerUser })) },
  { additionalProperties: false },
);
export type ClaimKeyPackagesRequest = Static<typeof ClaimKeyPackagesRequest>;

export const ClaimedKeyPackage = Type.Object({
  device: Id,
  keyPackage: Type.String(),
  lastResort: Type.Boolean(),
});
export type ClaimedKeyPackage = Static<typeof ClaimedKeyPackage>;
export const ClaimedKeyPackages = Type.Object({
  packages: Type.Array(ClaimedKeyPackage),
  exhausted: Type.Array(Id),
});
export type ClaimedKeyPackages = Static<typeof ClaimedKeyPackages>;

// ---------------------------------------------------------------- groups and the handshake log

/** Why a user's leaves should be removed by the next commit. */
export const RemovalReason = Type.Union([
  Type.Literal('left'),
  Type.Literal('kicked'),
  Type.Literal('banned'),
  Type.Literal('device-revoked'),
]);
export type RemovalReason = Static<typeof RemovalReason>;

export const PendingRemoval = Type.Object({
  userId: Id,
  /** Set when only one device goes (reason 'device-revoked'); absent: every leaf of the user. */
  device: Type.Optional(Id),
  reason: RemovalReason,
  /** ms since the Unix epoch. */
  at: Type.Integer(),
  /**
   * Seq of the accepted commit whose poster said it carries out this removal. The server cannot
   * check that claim: a client applying that commit must see the user (or device) gone from the
   * roster, and otherwise commit the removal itself. Absent: no commit has claimed it yet.
   */
  resolvedBySeq: Type.Optional(Type.Integer({ minimum: 1 })),
});
export type PendingRemoval = Static<typeof PendingRemoval>;

/**
 * GET /api/mls/groups/:id → GroupState (404 MLS_NO_GROUP for a member when no group exists yet).
 * POST /api/mls/groups/:id → 201 GroupState at epoch 0 (as a device; 409 MLS_GROUP_EXISTS with
 * `group` in the error when someone was first: join through their Welcome instead).
 */
export const GroupState = Type.Object({
  conv: Id,
  /** The epoch the next commit must be built on. */
  epoch: Seq,
  /** Seq of the newest log entry (0 when none). */
  headSeq: Seq,
  createdAt: Type.Integer(),
  /**
   * Removals the membership routes recorded, oldest first; those a commit claimed stay listed with
   * `resolvedBySeq` so every client can check the claim. Clients must also compare the MLS roster
   * with the conversation's member list: that, not this list, is the ground truth.
   */
  pendingRemovals: Type.Array(PendingRemoval),
});
export type GroupState = Static<typeof GroupState>;

/**
 * POST /api/mls/groups/:id/commits (as a device) → 201 CommitAccepted, or
 * 409 MLS_STALE_EPOCH with `CommitRejectedDetails` inside `error`: process `commits` (then the rest
 * of the log if `hasMore`) and retry on the new epoch. Exactly one commit per epoch is accepted.
 * `commit` must be an MLSMessage (mls10) PublicMessage or PrivateMessage whose cleartext header
 * names this conversation's group id, the posted epoch and content type commit: else 400
 * MLS_BAD_COMMIT with `reason`. Rate limited per user, by requests (`commitBurst`) and by commit +
 * Welcome bytes (`commitByteBurst`): 429 RATE_LIMITED with Retry-After. A Welcome addressed to a
 * device with `welcomesPerDevice` waiting is refused with the whole commit: 507
 * MLS_WELCOME_INBOX_FULL with `devices`.
 */
export const PostCommitRequest = Type.Object(
  {
    /** The epoch the commit was built on (the group's epoch before it). */
    epoch: Seq,
    commit: B64Url(MlsLimits.commitBytes),
    /** The Welcome for the devices this commit adds; stored only if the commit is accepted. */
    welcome: Type.Optional(
      Type.Object(
        {
          bytes: B64Url(MlsLimits.welcomeBytes),
          devices: Type.Array(Id, { minItems: 1, maxItems: MlsLimits.welcomeRecipients }),
        },
        { additionalProperties: false },
      ),
    ),
    /** Users whose pending removals this commit carries out (marked `resolvedBySeq` when it is accepted). */
    resolvesRemovals: Type.Optional(Type.Array(Id, { maxItems: MlsLimits.welcomeRecipients })),
  },
  { additionalProperties: false },
);
export type PostCommitRequest = Static<typeof PostCommitRequest>;

/** One accepted commit. */
export const LogEntry = Type.Object({
  /** Per group, from 1, no gaps. */
  seq: Type.Integer({ minimum: 1 }),
  /** The epoch it was built on; applying it yields epoch + 1. */
  epoch: Seq,
  /** The device that posted it. */
  sender: Id,
  commit: Type.String(),
  /** Server receive time, ms since the Unix epoch. */
  ts: Type.Integer(),
});
export type LogEntry = Static<typeof LogEntry>;

export const CommitAccepted = Type.Object({ seq: Type.Integer({ minimum: 1 }), epoch: Seq });
export type CommitAccepted = Static<typeof CommitAccepted>;

/** Extra fields of the 409 MLS_STALE_EPOCH error object. */
export const CommitRejectedDetails = Type.Object({
  /** The group's epoch now. */
  currentEpoch: Seq,
  /** Accepted commits from the posted epoch on (at most `logPage` entries and `logPageBytes`, at least one). */
  commits: Type.Array(LogEntry),
  hasMore: Type.Boolean(),
});
export type CommitRejectedDetails = Static<typeof CommitRejectedDetails>;

/**
 * GET /api/mls/groups/:id/log?fromEpoch=<e>&limit=<1..100> → LogPage (entries built on epoch ≥ e,
 * at most `limit` entries and `logPageBytes` of commits; `hasMore`: ask again from the next epoch).
 * Rate limited per user (`logReadBurst`): 429 RATE_LIMITED with Retry-After.
 */
export const LogQuery = Type.Object(
  {
    fromEpoch: Type.Optional(Seq),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MlsLimits.logPage })),
  },
  { additionalProperties: false },
);
export type LogQuery = Static<typeof LogQuery>;
export const LogPage = Type.Object({ entries: Type.Array(LogEntry), hasMore: Type.Boolean() });
export type LogPage = Static<typeof LogPage>;

// ---------------------------------------------------------------- Welcomes

/** A Welcome waiting for the session's device. */
export const WelcomeView = Type.Object({
  id: Id,
  conv: Id,
  /** The epoch the Welcome joins at (the adding commit's epoch + 1). */
  epoch: Seq,
  welcome: Type.String(),
  ts: Type.Integer(),
});
export type WelcomeView = Static<typeof WelcomeView>;
/**
 * GET /api/mls/welcomes?after=<next> → WelcomeList (as a device, oldest first): at most
 * `welcomePage` Welcomes and `welcomePageBytes` (at least one). When `hasMore`, pass `next` as
 * `after` for the following page; acknowledging what was processed and asking again without
 * `after` also works. Welcomes older than `welcomeTtlMs` are deleted unread.
 * DELETE /api/mls/welcomes/:id → 204 once processed (as that device; unknown → 404 NOT_FOUND).
 */
export const WelcomeQuery = Type.Object({ after: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$' })) }, { additionalProperties: false });
export type WelcomeQuery = Static<typeof WelcomeQuery>;
export const WelcomeList = Type.Object({
  welcomes: Type.Array(WelcomeView),
  hasMore: Type.Boolean(),
  /** Opaque cursor: the `after` of the next page (present when `hasMore`). */
  next: Type.Optional(Type.String()),
});
export type WelcomeList = Static<typeof WelcomeList>;

// ---------------------------------------------------------------- wrapped key storage (recovery)

/** The two per-user recovery blobs: the wrapped account key, and the wrapped epoch-key archive. */
export const BackupKind = Type.Union([Type.Literal('account-key'), Type.Literal('archive')]);
export type BackupKind = Static<typeof BackupKind>;
export const BackupParams = Type.Object({ kind: BackupKind }, { additionalProperties: false });

/**
 * GET /api/mls/backup/:kind → 200 application/octet-stream with `ETag: "<version>"`
 *   (404 NOT_FOUND when none is stored).
 * PUT /api/mls/backup/:kind, body application/octet-stream, `If-Match: "<version>"` (the version
 *   read, or "0" when none exists yet) → 200 BackupVersion. A stale version is
 *   409 MLS_VERSION_CONFLICT with `currentVersion` in the error; no If-Match is 428
 *   MLS_VERSION_REQUIRED.
 * DELETE /api/mls/backup/:kind with `If-Match: "<version>"` (the stored version) → 204; 428
 *   MLS_VERSION_REQUIRED without it, 409 MLS_VERSION_CONFLICT when stale, 404 when none is stored.
 *   The version is kept (a tombstone): the next PUT, with If-Match "0" or the tombstone's version,
 *   gets a higher version than any before, so a version number never names two blobs.
 * Only the owner ever reads or writes their blobs.
 */
export const BackupVersion = Type.Object({ version: Type.Integer({ minimum: 1 }) });
export type BackupVersion = Static<typeof BackupVersion>;

// ---------------------------------------------------------------- WebSocket notifications

// Server → client frames (src/shared/protocol.ts), sent to every socket of the users concerned:
//   { t: 'mls.commit', conv, epoch, seq }     a commit was accepted; `epoch` is the new epoch
//   { t: 'mls.welcome', device, conv }        a Welcome waits for this device (GET /api/mls/welcomes)
//   { t: 'mls.removal', conv, userId }        a pending removal was recorded for the group
//   { t: 'mls.members', conv, userId }        userId joined, or certified a device: add what is missing
export { MlsCommitFrame, MlsWelcomeFrame, MlsRemovalFrame, MlsMembersFrame } from './protocol.ts';
