/**
 * Storage for the MLS delivery service (src/server/routes/mls.ts): devices, the KeyPackage
 * directory, one handshake log per conversation's group, Welcomes and the wrapped recovery blobs.
 * Every byte array is opaque MLS or ciphertext the server never parses. Every method that writes
 * more than one row does it in one transaction; the contract test is test/store/mls-contract.ts.
 */

export type RemovalReason = 'left' | 'kicked' | 'banned' | 'device-revoked';
export type BackupKind = 'account-key' | 'archive';

export interface MlsDevice {
  id: string;
  userId: string;
  label: string;
  /** The account-key-signed device certificate, as the client sent it; null until it is uploaded. */
  certificate: Uint8Array | null;
  createdAt: number;
  /** SHA-256 (hex) of the session the device is bound to; null after that session ended. */
  sessionHash: string | null;
}

export interface KeyPackageCount {
  oneTime: number;
  hasLastResort: boolean;
}

export interface ClaimedKeyPackage {
  deviceId: string;
  data: Uint8Array;
  lastResort: boolean;
}

export interface MlsGroup {
  convId: string;
  /** The epoch the next commit must be built on. */
  epoch: number;
  /** Seq of the newest commit (0 when none). */
  headSeq: number;
  createdAt: number;
}

export interface PendingRemovalRecord {
  userId: string;
  /** Set when only this device's leaf goes. */
  deviceId: string | null;
  reason: RemovalReason;
  createdAt: number;
  /** Seq of the accepted commit that claimed to carry it out; null until one did. */
  resolvedSeq: number | null;
}

export interface CommitRecord {
  convId: string;
  /** Per group, from 1, no gaps. */
  seq: number;
  /** The epoch the commit was built on. */
  epoch: number;
  senderDeviceId: string;
  data: Uint8Array;
  ts: number;
}

export interface AppendCommitInput {
  convId: string;
  /** The epoch the commit was built on: accepted only if it is the group's current epoch. */
  epoch: number;
  senderDeviceId: string;
  data: Uint8Array;
  ts: number;
  /** Stored in the same transaction as the commit, addressed to these devices. */
  welcome?: { data: Uint8Array; deviceIds: string[] };
  /** Users whose pending removals this commit says it carries out (marked, not deleted). */
  resolvesRemovals?: string[];
  /** Refuse (ChatroomError MLS_WELCOME_INBOX_FULL, nothing stored) when a recipient has this many waiting. */
  maxWelcomesPerDevice?: number;
}

/** One page of the handshake log. */
export interface CommitPage {
  commits: CommitRecord[];
  /** More commits follow the last one (the count or the byte cap stopped the page). */
  hasMore: boolean;
}

/** One page of a device's waiting Welcomes. */
export interface WelcomePage {
  welcomes: WelcomeRecord[];
  hasMore: boolean;
  /** Cursor for the next page (pass as `after`); null when none follows. */
  next: number | null;
}

export type AppendCommitResult =
  | { accepted: true; commit: CommitRecord; welcomeId: string | null }
  /** Another commit won this epoch (or `epoch` is ahead): the group is at `currentEpoch`. */
  | { accepted: false; currentEpoch: number };

export interface WelcomeRecord {
  id: string;
  convId: string;
  /** The epoch a joiner starts at. */
  epoch: number;
  data: Uint8Array;
  ts: number;
}

export interface BackupRecord {
  version: number;
  data: Uint8Array;
  updatedAt: number;
}

export type PutBackupResult = { ok: true; version: number } | { ok: false; currentVersion: number };
/** `missing`: nothing is stored (never, or already deleted). */
export type DeleteBackupResult = { ok: true; version: number } | { ok: false; currentVersion: number } | { ok: false; missing: true };

export interface MlsStore {
  // ---- devices
  /**
   * Registers a device bound to `sessionHash`. Throws ChatroomError MLS_DEVICE_EXISTS when that
   * session has one, MLS_DEVICE_LIMIT when the user already has `maxDevices`.
   */
  registerDevice(input: { userId: string; sessionHash: string; label: string; certificate: Uint8Array | null; rebindHash: string; maxDevices: number; now: number }): Promise<MlsDevice>;
  /** Sets (or replaces) the certificate of the user's device; false when it is not theirs. */
  setCertificate(input: { deviceId: string; userId: string; certificate: Uint8Array }): Promise<boolean>;
  getDevice(deviceId: string): Promise<MlsDevice | null>;
  /** The device bound to this session, or null. */
  deviceOfSession(sessionHash: string): Promise<MlsDevice | null>;
  /** The user's devices, oldest first. */
  listDevices(userId: string): Promise<MlsDevice[]>;
  /**
   * Binds the user's device to `sessionHash` when `rebindHash` matches; any device already bound
   * to that session is unbound. False when the device is not the user's or the hash differs.
   */
  rebindDevice(input: { deviceId: string; userId: string; rebindHash: string; sessionHash: string }): Promise<boolean>;
  /**
   * Deletes the user's device with its KeyPackages and Welcome deliveries, and records a
   * 'device-revoked' pending removal in every group of a conversation the user can see (`convIds`).
   * Returns the conversation ids that got one, or null when the device is not the user's.
   */
  deleteDevice(input: { deviceId: string; userId: string; convIds: string[]; now: number }): Promise<string[] | null>;

  // ---- KeyPackages
  /**
   * Adds one-time packages and replaces the last-resort one (when given). Throws ChatroomError
   * MLS_KEY_PACKAGE_LIMIT (nothing stored) when the device would hold more than `maxOneTime`.
   */
  addKeyPackages(input: { deviceId: string; oneTime: Uint8Array[]; lastResort: Uint8Array | null; maxOneTime: number; now: number }): Promise<KeyPackageCount>;
  countKeyPackages(deviceId: string): Promise<KeyPackageCount>;
  /**
   * One package per given device (in that order): the oldest one-time package, deleted as it is
   * handed out (never to two callers), else the last-resort package, which is kept. Devices with
   * neither are missing from the result. `lastResortOnly`: hand out only last-resort packages.
   */
  claimKeyPackages(deviceIds: string[], opts?: { lastResortOnly?: boolean }): Promise<ClaimedKeyPackage[]>;

  // ---- groups and the handshake log
  /** Creates the group at epoch 0; null when the conversation already has one. */
  createGroup(convId: string, now: number): Promise<MlsGroup | null>;
  getGroup(convId: string): Promise<MlsGroup | null>;
  /** The group's pending removals (claimed ones too, with `resolvedSeq`), oldest first. */
  pendingRemovals(convId: string): Promise<PendingRemovalRecord[]>;
  /**
   * The epoch check and the append in one transaction: of concurrent commits on one epoch exactly
   * one is accepted. Welcome recipients must be existing devices (NOT_FOUND otherwise) with fewer
   * than `maxWelcomesPerDevice` waiting (MLS_WELCOME_INBOX_FULL otherwise, nothing stored).
   */
  appendCommit(input: AppendCommitInput): Promise<AppendCommitResult>;
  /** Commits built on epoch ≥ fromEpoch, ascending, at most `limit`. */
  commitsFrom(convId: string, fromEpoch: number, limit: number): Promise<CommitRecord[]>;
  /** Like commitsFrom, but also stops before the commits' bytes pass `maxBytes` (at least one). */
  commitPage(convId: string, fromEpoch: number, opts: { maxCount: number; maxBytes: number }): Promise<CommitPage>;
  /**
   * Records that the user must be removed from the groups of these conversations (only those that
   * have a group). Returns the conversation ids that got a pending removal.
   */
  recordRemovals(input: { convIds: string[]; userId: string; reason: RemovalReason; now: number }): Promise<string[]>;

  // ---- Welcomes
  /** Welcomes waiting for the device, oldest first (every one: tests and small inboxes). */
  welcomesFor(deviceId: string): Promise<WelcomeRecord[]>;
  /**
   * Waiting Welcomes after cursor `after` (0: from the oldest), at most `maxCount`, stopping before
   * their bytes pass `maxBytes` (at least one).
   */
  welcomePage(deviceId: string, opts: { after: number; maxCount: number; maxBytes: number }): Promise<WelcomePage>;
  /** Deletes every Welcome received before `before` (ms); how many went. */
  expireWelcomes(before: number): Promise<number>;
  /** Deletes the device's delivery (and the Welcome once no device waits for it); false if unknown. */
  ackWelcome(deviceId: string, welcomeId: string): Promise<boolean>;

  // ---- wrapped key storage
  getBackup(userId: string, kind: BackupKind): Promise<BackupRecord | null>;
  /**
   * Writes when `expectedVersion` is the stored version, or 0 or the tombstone's version when
   * nothing is stored; the new version is one more than any before. Otherwise nothing is written
   * and the stored version is returned.
   */
  putBackup(input: { userId: string; kind: BackupKind; expectedVersion: number; data: Uint8Array; now: number }): Promise<PutBackupResult>;
  /**
   * Deletes the blob when `expectedVersion` is its version, keeping a tombstone one version higher
   * (so versions never go back). Nothing stored → `missing`.
   */
  deleteBackup(input: { userId: string; kind: BackupKind; expectedVersion: number; now: number }): Promise<DeleteBackupResult>;
}
