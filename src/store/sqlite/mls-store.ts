/** The SQLite adapter of MlsStore, on the main store's connection (src/store/sqlite/sqlite-store.ts). */
import type Database from 'better-sqlite3';
import { ChatroomError } from '../../shared/errors.ts';
import type {
  AppendCommitInput,
  AppendCommitResult,
  BackupKind,
  BackupRecord,
  ClaimedKeyPackage,
  CommitPage,
  CommitRecord,
  DeleteBackupResult,
  KeyPackageCount,
  MlsDevice,
  MlsGroup,
  MlsStore,
  PendingRemovalRecord,
  PutBackupResult,
  RemovalReason,
  WelcomePage,
  WelcomeRecord,
} from '../mls-types.ts';
import { newId } from './ids.ts';
import { statementCache, type StatementCache } from './statements.ts';

/** Largest log page, whatever the caller asks. */
const MAX_LOG_PAGE = 1000;

interface DeviceRow {
  id: string;
  user_id: string;
  label: string;
  certificate: Buffer | null;
  created_at: number;
  session_hash: string | null;
}
interface GroupRow {
  conv_id: string;
  epoch: number;
  head_seq: number;
  created_at: number;
}
interface CommitRow {
  conv_id: string;
  seq: number;
  epoch: number;
  sender_device: string;
  data: Buffer;
  ts: number;
}

const deviceCols = 'id, user_id, label, certificate, created_at, session_hash';
const commitCols = 'conv_id, seq, epoch, sender_device, data, ts';

function toDevice(r: DeviceRow): MlsDevice {
  return { id: r.id, userId: r.user_id, label: r.label, certificate: r.certificate ? new Uint8Array(r.certificate) : null, createdAt: r.created_at, sessionHash: r.session_hash };
}
function toGroup(r: GroupRow): MlsGroup {
  return { convId: r.conv_id, epoch: r.epoch, headSeq: r.head_seq, createdAt: r.created_at };
}
function toCommit(r: CommitRow): CommitRecord {
  return { convId: r.conv_id, seq: r.seq, epoch: r.epoch, senderDeviceId: r.sender_device, data: new Uint8Array(r.data), ts: r.ts };
}

function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

function sqliteCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null ? (err as { code?: string }).code : undefined;
}

/** A write whose foreign key names nothing becomes NOT_FOUND, not a raw SqliteError. */
function referencing<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (sqliteCode(err) === 'SQLITE_CONSTRAINT_FOREIGNKEY') throw new ChatroomError('NOT_FOUND', 'No such user, session, device or conversation.');
    throw err;
  }
}

/** MLS tables on one better-sqlite3 connection; multi-row writes are IMMEDIATE transactions. */
export class SqliteMlsStore implements MlsStore {

  /** Statements prepared once per SQL text. */
  private readonly q: StatementCache;

  constructor(private readonly db: Database.Database) {
    this.q = statementCache(db);
  }


  private tx<T>(fn: () => T): T {
    return referencing(() => this.db.transaction(fn).immediate());
  }

  // ---- devices

  async registerDevice(input: { userId: string; sessionHash: string; label: string; certificate: Uint8Array | null; rebindHash: string; maxDevices: number; now: number }): Promise<MlsDevice> {
    return this.tx(() => {
      if (this.q('SELECT 1 FROM mls_devices WHERE session_hash = ?').get(input.sessionHash)) throw new ChatroomError('MLS_DEVICE_EXISTS');
      const n = this.q<{ n: number }>('SELECT count(*) AS n FROM mls_devices WHERE user_id = ?').get(input.userId)!.n;
      if (n >= input.maxDevices) throw new ChatroomError('MLS_DEVICE_LIMIT');
      const device: MlsDevice = { id: newId(), userId: input.userId, label: input.label, certificate: input.certificate, createdAt: input.now, sessionHash: input.sessionHash };
      this.q('INSERT INTO mls_devices (id, user_id, session_hash, rebind_hash, label, certificate, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
        device.id,
        device.userId,
        device.sessionHash,
        input.rebindHash,
        device.label,
        device.certificate ? asBuffer(device.certificate) : null,
        device.createdAt,
      );
      return device;
    });
  }

  async setCertificate(input: { deviceId: string; userId: string; certificate: Uint8Array }): Promise<boolean> {
    const r = this.q('UPDATE mls_devices SET certificate = ? WHERE id = ? AND user_id = ?').run(asBuffer(input.certificate), input.deviceId, input.userId);
    return r.changes === 1;
  }

  async getDevice(deviceId: string): Promise<MlsDevice | null> {
    const r = this.q<DeviceRow>(`SELECT ${deviceCols} FROM mls_devices WHERE id = ?`).get(deviceId);
    return r ? toDevice(r) : null;
  }

  async deviceOfSession(sessionHash: string): Promise<MlsDevice | null> {
    const r = this.q<DeviceRow>(`SELECT ${deviceCols} FROM mls_devices WHERE session_hash = ?`).get(sessionHash);
    return r ? toDevice(r) : null;
  }

  async listDevices(userId: string): Promise<MlsDevice[]> {
    return this.q<DeviceRow>(`SELECT ${deviceCols} FROM mls_devices WHERE user_id = ? ORDER BY created_at, rowid`).all(userId).map(toDevice);
  }

  async rebindDevice(input: { deviceId: string; userId: string; rebindHash: string; sessionHash: string }): Promise<boolean> {
    return this.tx(() => {
      const r = this.q<{ rebind_hash: string }>('SELECT rebind_hash FROM mls_devices WHERE id = ? AND user_id = ?').get(input.deviceId, input.userId);
      if (!r || r.rebind_hash !== input.rebindHash) return false;
      this.q('UPDATE mls_devices SET session_hash = NULL WHERE session_hash = ? AND id <> ?').run(input.sessionHash, input.deviceId);
      this.q('UPDATE mls_devices SET session_hash = ? WHERE id = ?').run(input.sessionHash, input.deviceId);
      return true;
    });
  }

  async deleteDevice(input: { deviceId: string; userId: string; convIds: string[]; now: number }): Promise<string[] | null> {
    return this.tx(() => {
      // Cascades: KeyPackages, Welcome deliveries (and, by trigger, Welcomes no one else waits for).
      const r = this.q('DELETE FROM mls_devices WHERE id = ? AND user_id = ?').run(input.deviceId, input.userId);
      if (r.changes === 0) return null;
      return this.insertRemovals(input.convIds, input.userId, input.deviceId, 'device-revoked', input.now);
    });
  }

  // ---- KeyPackages

  async addKeyPackages(input: { deviceId: string; oneTime: Uint8Array[]; lastResort: Uint8Array | null; maxOneTime: number; now: number }): Promise<KeyPackageCount> {
    return this.tx(() => {
      if (!this.q('SELECT 1 FROM mls_devices WHERE id = ?').get(input.deviceId)) throw new ChatroomError('NOT_FOUND', 'No such device.');
      const stored = this.countOneTime(input.deviceId);
      if (stored + input.oneTime.length > input.maxOneTime) {
        throw new ChatroomError('MLS_KEY_PACKAGE_LIMIT', undefined, { stored, max: input.maxOneTime });
      }
      const insert = this.q('INSERT INTO mls_key_packages (device_id, last_resort, data, created_at) VALUES (?, ?, ?, ?)');
      for (const kp of input.oneTime) insert.run(input.deviceId, 0, asBuffer(kp), input.now);
      if (input.lastResort) {
        this.q('DELETE FROM mls_key_packages WHERE device_id = ? AND last_resort = 1').run(input.deviceId);
        insert.run(input.deviceId, 1, asBuffer(input.lastResort), input.now);
      }
      return this.count(input.deviceId);
    });
  }

  private countOneTime(deviceId: string): number {
    return this.q<{ n: number }>('SELECT count(*) AS n FROM mls_key_packages WHERE device_id = ? AND last_resort = 0').get(deviceId)!.n;
  }

  private count(deviceId: string): KeyPackageCount {
    const hasLastResort = this.q('SELECT 1 FROM mls_key_packages WHERE device_id = ? AND last_resort = 1').get(deviceId) !== undefined;
    return { oneTime: this.countOneTime(deviceId), hasLastResort };
  }

  async countKeyPackages(deviceId: string): Promise<KeyPackageCount> {
    return this.count(deviceId);
  }

  async claimKeyPackages(deviceIds: string[], opts: { lastResortOnly?: boolean } = {}): Promise<ClaimedKeyPackage[]> {
    return this.tx(() => {
      // One statement picks and deletes, so no two claims (even from two connections) get one package.
      const takeOneTime = this.q<{ data: Buffer }>(
        `DELETE FROM mls_key_packages WHERE id = (
           SELECT id FROM mls_key_packages WHERE device_id = ? AND last_resort = 0 ORDER BY id LIMIT 1
         ) RETURNING data`,
      );
      const lastResort = this.q<{ data: Buffer }>('SELECT data FROM mls_key_packages WHERE device_id = ? AND last_resort = 1');
      const out: ClaimedKeyPackage[] = [];
      for (const deviceId of deviceIds) {
        const one = opts.lastResortOnly ? undefined : takeOneTime.get(deviceId);
        if (one) {
          out.push({ deviceId, data: new Uint8Array(one.data), lastResort: false });
          continue;
        }
        const last = lastResort.get(deviceId);
        if (last) out.push({ deviceId, data: new Uint8Array(last.data), lastResort: true });
      }
      return out;
    });
  }

  // ---- groups and the handshake log

  async createGroup(convId: string, now: number): Promise<MlsGroup | null> {
    return referencing(() => {
      const r = this.q('INSERT INTO mls_groups (conv_id, epoch, head_seq, created_at) VALUES (?, 0, 0, ?) ON CONFLICT DO NOTHING').run(convId, now);
      return r.changes === 1 ? { convId, epoch: 0, headSeq: 0, createdAt: now } : null;
    });
  }

  async getGroup(convId: string): Promise<MlsGroup | null> {
    const r = this.q<GroupRow>('SELECT conv_id, epoch, head_seq, created_at FROM mls_groups WHERE conv_id = ?').get(convId);
    return r ? toGroup(r) : null;
  }

  async pendingRemovals(convId: string): Promise<PendingRemovalRecord[]> {
    const rows = this.q<{ user_id: string; device_id: string; reason: RemovalReason; created_at: number; resolved_seq: number | null }>(
      'SELECT user_id, device_id, reason, created_at, resolved_seq FROM mls_pending_removals WHERE conv_id = ? ORDER BY created_at, rowid',
    ).all(convId);
    return rows.map((r) => ({ userId: r.user_id, deviceId: r.device_id === '' ? null : r.device_id, reason: r.reason, createdAt: r.created_at, resolvedSeq: r.resolved_seq }));
  }

  async appendCommit(input: AppendCommitInput): Promise<AppendCommitResult> {
    return this.tx(() => {
      const group = this.q<GroupRow>('SELECT conv_id, epoch, head_seq, created_at FROM mls_groups WHERE conv_id = ?').get(input.convId);
      if (!group) throw new ChatroomError('MLS_NO_GROUP');
      if (group.epoch !== input.epoch) return { accepted: false as const, currentEpoch: group.epoch };
      const commit: CommitRecord = {
        convId: input.convId,
        seq: group.head_seq + 1,
        epoch: input.epoch,
        senderDeviceId: input.senderDeviceId,
        data: input.data,
        ts: input.ts,
      };
      // The UPDATE repeats the epoch check so the write itself, not only the read above, is conditional.
      const moved = this.q('UPDATE mls_groups SET epoch = epoch + 1, head_seq = ? WHERE conv_id = ? AND epoch = ?').run(commit.seq, input.convId, input.epoch);
      if (moved.changes !== 1) return { accepted: false as const, currentEpoch: this.getGroupEpoch(input.convId) };
      this.q(`INSERT INTO mls_commits (${commitCols}) VALUES (?, ?, ?, ?, ?, ?)`).run(
        commit.convId,
        commit.seq,
        commit.epoch,
        commit.senderDeviceId,
        asBuffer(commit.data),
        commit.ts,
      );
      let welcomeId: string | null = null;
      if (input.welcome) {
        const max = input.maxWelcomesPerDevice;
        if (max !== undefined) {
          const waiting = this.q<{ n: number }>('SELECT count(*) AS n FROM mls_welcome_recipients WHERE device_id = ?');
          const full = input.welcome.deviceIds.filter((d) => waiting.get(d)!.n >= max);
          // Thrown inside the transaction: the epoch move and the commit above roll back too.
          if (full.length > 0) throw new ChatroomError('MLS_WELCOME_INBOX_FULL', undefined, { devices: full, max });
        }
        welcomeId = newId();
        this.q('INSERT INTO mls_welcomes (id, conv_id, epoch, data, ts) VALUES (?, ?, ?, ?, ?)').run(
          welcomeId,
          input.convId,
          input.epoch + 1,
          asBuffer(input.welcome.data),
          input.ts,
        );
        const addRecipient = this.q('INSERT INTO mls_welcome_recipients (device_id, welcome_id) VALUES (?, ?) ON CONFLICT DO NOTHING');
        for (const deviceId of input.welcome.deviceIds) addRecipient.run(deviceId, welcomeId);
      }
      if (input.resolvesRemovals?.length) {
        // Marked, not deleted: the claim is the poster's word, which every client checks against
        // the roster once it applies this commit. An earlier claim is kept (later ones add nothing).
        this.q('UPDATE mls_pending_removals SET resolved_seq = ? WHERE conv_id = ? AND resolved_seq IS NULL AND user_id IN (SELECT value FROM json_each(?))').run(
          commit.seq,
          input.convId,
          JSON.stringify(input.resolvesRemovals),
        );
      }
      return { accepted: true as const, commit, welcomeId };
    });
  }

  private getGroupEpoch(convId: string): number {
    return this.q<{ epoch: number }>('SELECT epoch FROM mls_groups WHERE conv_id = ?').get(convId)?.epoch ?? 0;
  }

  async commitsFrom(convId: string, fromEpoch: number, limit: number): Promise<CommitRecord[]> {
    const n = Number.isFinite(limit) && limit > 0 ? Math.min(Math.floor(limit), MAX_LOG_PAGE) : 0;
    return this.q<CommitRow>(`SELECT ${commitCols} FROM mls_commits WHERE conv_id = ? AND epoch >= ? ORDER BY seq LIMIT ?`).all(convId, fromEpoch, n).map(toCommit);
  }

  async commitPage(convId: string, fromEpoch: number, opts: { maxCount: number; maxBytes: number }): Promise<CommitPage> {
    const maxCount = Math.max(1, Math.min(Math.floor(opts.maxCount), MAX_LOG_PAGE));
    const commits: CommitRecord[] = [];
    let bytes = 0;
    let hasMore = false;
    // Sizes first (length() reads no blob), so a row past the byte cap is never copied out of SQLite.
    const sizes = this.q<{ seq: number; n: number }>('SELECT seq, length(data) AS n FROM mls_commits WHERE conv_id = ? AND epoch >= ? ORDER BY seq LIMIT ?');
    const one = this.q<CommitRow>(`SELECT ${commitCols} FROM mls_commits WHERE conv_id = ? AND seq = ?`);
    for (const row of sizes.all(convId, fromEpoch, maxCount + 1)) {
      if (commits.length === maxCount || (commits.length > 0 && bytes + row.n > opts.maxBytes)) {
        hasMore = true;
        break;
      }
      bytes += row.n;
      commits.push(toCommit(one.get(convId, row.seq)!));
    }
    return { commits, hasMore };
  }

  async recordRemovals(input: { convIds: string[]; userId: string; reason: RemovalReason; now: number }): Promise<string[]> {
    return this.tx(() => this.insertRemovals(input.convIds, input.userId, null, input.reason, input.now));
  }

  /** Pending removals for the conversations among `convIds` that have a group; their ids. */
  private insertRemovals(convIds: string[], userId: string, deviceId: string | null, reason: RemovalReason, now: number): string[] {
    if (convIds.length === 0) return [];
    const rows = this.q<{ conv_id: string }>(
      `INSERT INTO mls_pending_removals (conv_id, user_id, device_id, reason, created_at)
       SELECT g.conv_id, ?, ?, ?, ? FROM mls_groups g WHERE g.conv_id IN (SELECT value FROM json_each(?))
       ON CONFLICT (conv_id, user_id, device_id) DO UPDATE SET reason = excluded.reason, created_at = excluded.created_at, resolved_seq = NULL
       RETURNING conv_id`,
    ).all(userId, deviceId ?? '', reason, now, JSON.stringify(convIds));
    return rows.map((r) => r.conv_id);
  }

  // ---- Welcomes

  async welcomesFor(deviceId: string): Promise<WelcomeRecord[]> {
    const rows = this.q<{ id: string; conv_id: string; epoch: number; data: Buffer; ts: number }>(
      `SELECT w.id, w.conv_id, w.epoch, w.data, w.ts FROM mls_welcome_recipients r JOIN mls_welcomes w ON w.id = r.welcome_id
       WHERE r.device_id = ? ORDER BY w.ts, w.rowid`,
    ).all(deviceId);
    return rows.map((r) => ({ id: r.id, convId: r.conv_id, epoch: r.epoch, data: new Uint8Array(r.data), ts: r.ts }));
  }

  async welcomePage(deviceId: string, opts: { after: number; maxCount: number; maxBytes: number }): Promise<WelcomePage> {
    const maxCount = Math.max(1, Math.floor(opts.maxCount));
    const welcomes: WelcomeRecord[] = [];
    let bytes = 0;
    let last = 0;
    let hasMore = false;
    // Ordered by the Welcome's rowid (insertion order), which is also the cursor.
    const sizes = this.q<{ pos: number; n: number }>(
      `SELECT w.rowid AS pos, length(w.data) AS n FROM mls_welcome_recipients r JOIN mls_welcomes w ON w.id = r.welcome_id
       WHERE r.device_id = ? AND w.rowid > ? ORDER BY w.rowid LIMIT ?`,
    );
    const one = this.q<{ id: string; conv_id: string; epoch: number; data: Buffer; ts: number }>('SELECT id, conv_id, epoch, data, ts FROM mls_welcomes WHERE rowid = ?');
    for (const row of sizes.all(deviceId, opts.after, maxCount + 1)) {
      if (welcomes.length === maxCount || (welcomes.length > 0 && bytes + row.n > opts.maxBytes)) {
        hasMore = true;
        break;
      }
      const w = one.get(row.pos)!;
      bytes += row.n;
      last = row.pos;
      welcomes.push({ id: w.id, convId: w.conv_id, epoch: w.epoch, data: new Uint8Array(w.data), ts: w.ts });
    }
    return { welcomes, hasMore, next: hasMore ? last : null };
  }

  async expireWelcomes(before: number): Promise<number> {
    // Recipients go by ON DELETE CASCADE.
    return this.tx(() => this.q('DELETE FROM mls_welcomes WHERE ts < ?').run(before).changes);
  }

  async ackWelcome(deviceId: string, welcomeId: string): Promise<boolean> {
    return this.tx(() => this.q('DELETE FROM mls_welcome_recipients WHERE device_id = ? AND welcome_id = ?').run(deviceId, welcomeId).changes === 1);
  }

  // ---- wrapped key storage

  async getBackup(userId: string, kind: BackupKind): Promise<BackupRecord | null> {
    const r = this.q<{ version: number; data: Buffer | null; updated_at: number }>('SELECT version, data, updated_at FROM mls_backups WHERE user_id = ? AND kind = ?').get(userId, kind);
    return r && r.data ? { version: r.version, data: new Uint8Array(r.data), updatedAt: r.updated_at } : null;
  }

  async putBackup(input: { userId: string; kind: BackupKind; expectedVersion: number; data: Uint8Array; now: number }): Promise<PutBackupResult> {
    return this.tx(() => {
      const row = this.q<{ version: number; live: number }>('SELECT version, data IS NOT NULL AS live FROM mls_backups WHERE user_id = ? AND kind = ?').get(input.userId, input.kind);
      const current = row?.version ?? 0;
      // Nothing stored (never, or a tombstone): "0" means "I saw none" and matches too.
      const matches = current === input.expectedVersion || (!row?.live && input.expectedVersion === 0);
      if (!matches) return { ok: false as const, currentVersion: row?.live ? current : 0 };
      const version = current + 1;
      this.q(
        `INSERT INTO mls_backups (user_id, kind, version, data, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (user_id, kind) DO UPDATE SET version = excluded.version, data = excluded.data, updated_at = excluded.updated_at`,
      ).run(input.userId, input.kind, version, asBuffer(input.data), input.now);
      return { ok: true as const, version };
    });
  }

  async deleteBackup(input: { userId: string; kind: BackupKind; expectedVersion: number; now: number }): Promise<DeleteBackupResult> {
    return this.tx(() => {
      const row = this.q<{ version: number; live: number }>('SELECT version, data IS NOT NULL AS live FROM mls_backups WHERE user_id = ? AND kind = ?').get(input.userId, input.kind);
      if (!row?.live) return { ok: false as const, missing: true as const };
      if (row.version !== input.expectedVersion) return { ok: false as const, currentVersion: row.version };
      const version = row.version + 1;
      this.q('UPDATE mls_backups SET version = ?, data = NULL, updated_at = ? WHERE user_id = ? AND kind = ?').run(version, input.now, input.userId, input.kind);
      return { ok: true as const, version };
    });
  }
}
