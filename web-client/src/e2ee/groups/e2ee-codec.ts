/**
 * The end-to-end BodyCodec: one MLS group per conversation (group id = conversation id, channel
 * ""), kept in step with the server by the frames the store forwards, and every message body an
 * envelope sealed under the group's current epoch. See docs/E2EE.md, "Conversations: how the
 * engine keeps groups in step".
 */
import type { ServerFrame } from '../../../../src/shared/protocol.ts';
import {
  acknowledgeKeyChange,
  DEFAULT_ROTATION_POLICY,
  markVerified,
  parseDeviceCertificate,
  verifyDeviceCertificate,
  checkPin,
  isCryptoError,
  type DeviceIdentity,
  type KeyChange,
  type Member,
  type MessageContent,
  type PinRecord,
  type PinStore,
  type RotationPolicy,
} from '../../crypto/index.ts';
import { ApiError } from '../../state/api.ts';
import { KEYS_EVENT, SendRefused, type BodyCodec, type DecodedBody } from '../../state/body-codec.ts';
import { equalBytes } from '../../crypto/bytes.ts';
import { fromB64Url } from '../b64url.ts';
import { MlsApiError, type MlsClient } from '../mls-client.ts';
import type { Vault } from '../vault.ts';
import { EpochArchive } from './archive.ts';
import type { EngineContext, KeyPackageSource } from './context.ts';
import { ConversationGroup, WAITING_MESSAGE } from './conversation.ts';
import { GroupStore } from './group-store.ts';
import { withLock } from './locks.ts';
import { KeyedQueue } from './queue.ts';
import { refusal } from './refusals.ts';
import { VaultPinStore } from './vault-pins.ts';
import { WARNINGS_EVENT, type E2eeWarning } from './warnings.ts';

/** A PinStore that can also list its pins (the key-change list needs it). */
export type ListablePinStore = PinStore & { list(): Promise<PinRecord[]> };

export interface E2eeCodecOptions {
  client: MlsClient;
  userId: string;
  /** This device (DeviceKeys.engineKeys). */
  device: DeviceIdentity;
  /** The user's vault: group states, epoch keys, pins and the backup key live there. */
  vault: Vault;
  keyPackages: KeyPackageSource;
  /** Defaults to pins kept in the vault. */
  pins?: ListablePinStore;
  /** Clock, ms since the Unix epoch. */
  now?: () => number;
  rotation?: RotationPolicy;
  /**
   * After a membership frame, the member whose leaf comes n-th waits n × this long (ms) before
   * committing, so members do not all race to make the same commit (losers just re-check).
   */
  reconcileStaggerMs?: number;
  /** A send re-checks the member list if the last check is older than this, ms. */
  reconcileEveryMs?: number;
  /** Another member may take over a group still at epoch 0 without commits after this long, ms. */
  abandonedGroupMs?: number;
  /** First wait before looking again for a device that had no KeyPackage to claim, ms. */
  packageRetryMs?: number;
}

/** A contact's keys for the safety-number dialog (safetyNumber(me, them) in crypto/). */
export interface SafetyInputs {
  me: { userId: string; accountKey: Uint8Array };
  them: { userId: string; accountKey: Uint8Array };
  verified: boolean;
  /** A changed key not yet acknowledged: `them.accountKey` is the new one. */
  changed: boolean;
}

/** One contact whose account key changed; sending to conversations with them is blocked until acknowledged. */
export interface KeyChangeNotice {
  userId: string;
  username?: string;
  previous: Uint8Array;
  next: Uint8Array;
}

const STAGGER_CAP_MS = 15_000;
const REMOVAL_PENDING_MESSAGE = 'Someone was removed from this conversation and is still in its encryption; this message goes out once they are taken out.';
/** Welcome pages read in one pick-up at most. */
const MAX_WELCOME_PAGES = 64;
/** Re-checks for devices that had no KeyPackage to claim yet (waits: 1×, 2×, 4× packageRetryMs). */
const PACKAGE_RETRIES = 3;

export class E2eeCodec extends EventTarget implements BodyCodec {
  readonly encrypted = true;
  readonly userId: string;
  readonly deviceId: string;
  /** Refused devices, packages, Welcomes and commits, newest last (also announced by WARNINGS_EVENT). */
  readonly warnings: E2eeWarning[] = [];
  private readonly ctx: EngineContext;
  private readonly pins: ListablePinStore;
  private readonly queue = new KeyedQueue();
  private readonly convs = new Map<string, ConversationGroup>();
  private readonly timers = new Map<string, { timer: ReturnType<typeof setTimeout>; release: () => void }>();
  private readonly background = new Set<Promise<unknown>>();
  private readonly stagger: number;
  private readonly reconcileEvery: number;
  private readonly abandonedAfter: number;
  private readonly packageRetryMs: number;
  private welcomesRun: Promise<void> | undefined;
  private welcomesAgain = false;
  private closed = false;

  constructor(private readonly opts: E2eeCodecOptions) {
    super();
    this.userId = opts.userId;
    this.deviceId = opts.device.deviceId;
    this.pins = opts.pins ?? new VaultPinStore(opts.vault);
    this.stagger = opts.reconcileStaggerMs ?? 1000;
    this.reconcileEvery = opts.reconcileEveryMs ?? 60_000;
    this.abandonedAfter = opts.abandonedGroupMs ?? 60_000;
    this.packageRetryMs = opts.packageRetryMs ?? 2000;
    const now = opts.now ?? Date.now;
    const store = new GroupStore(opts.vault);
    this.ctx = {
      client: opts.client,
      userId: opts.userId,
      device: opts.device,
      pins: this.pins,
      store,
      archive: new EpochArchive(
        opts.client,
        opts.vault,
        store,
        now,
        (message) => this.warn({ code: 'archive_failed', message }),
        () => this.keysArrived(),
      ),
      keyPackages: opts.keyPackages,
      rotation: opts.rotation ?? DEFAULT_ROTATION_POLICY,
      now,
      warn: (w) => this.warn(w),
      keyChanged: (changes) => this.keyChanged(changes),
      rosterChanged: () => this.keysArrived(),
    };
    // Epochs a previous session did not get into the archive.
    this.track(this.ctx.archive.flush());
  }

  /**
   * Runs `task` on `conv`'s group: after every earlier task of this tab (the queue) and while no
   * other tab works on it (a Web Lock); the task's ensureLoaded() picks up another tab's changes.
   */
  private run<T>(conv: string, task: () => Promise<T>): Promise<T> {
    return this.queue.run(conv, () => withLock(`chatroom-mls:${this.userId}:${conv}`, task));
  }

  private conv(id: string): ConversationGroup {
    let c = this.convs.get(id);
    if (!c) this.convs.set(id, (c = new ConversationGroup(id, this.ctx)));
    return c;
  }

  private warn(w: Omit<E2eeWarning, 'at'>): void {
    // The same refusal is reported once, not on every re-check.
    if (this.warnings.some((x) => x.code === w.code && x.conv === w.conv && x.deviceId === w.deviceId && x.message === w.message)) return;
    this.warnings.push({ ...w, at: this.ctx.now() });
    this.dispatchEvent(new Event(WARNINGS_EVENT));
  }

  private keyChanged(_changes: KeyChange[]): void {
    this.dispatchEvent(new Event(WARNINGS_EVENT));
  }

  private keysArrived(): void {
    if (!this.closed) this.dispatchEvent(new Event(KEYS_EVENT));
  }

  private track<T>(p: Promise<T>): void {
    const done = p.then(
      () => undefined,
      () => undefined,
    );
    this.background.add(done);
    void done.then(() => this.background.delete(done));
  }

  // ------------------------------------------------------------ BodyCodec

  async encode(conv: string, content: MessageContent): Promise<string> {
    if (this.closed) throw new SendRefused('closed', 'Signed out: this device no longer sends.');
    const c = this.conv(conv);
    await this.run(conv, () => c.ensureLoaded());
    // A Welcome may be waiting; picking Welcomes up queues on the conversation, so do it outside.
    if (!c.joined) await this.pickUpWelcomes().catch(() => undefined);
    try {
      return await this.run(conv, () => this.encodeIn(c, content));
    } catch (err) {
      if (err instanceof SendRefused) throw err;
      if (err instanceof ApiError && err.code === 'NETWORK') throw new SendRefused('network', err.message);
      if (err instanceof ApiError && err.code === 'NOT_FOUND') throw new SendRefused('not_found', 'This conversation is gone, or you are no longer in it.');
      const why = isCryptoError(err) ? err.code : err instanceof ApiError ? err.code : 'error';
      throw new SendRefused('encrypt_failed', `The message could not be encrypted (${why}). Try again.`);
    }
  }

  private async encodeIn(c: ConversationGroup, content: MessageContent): Promise<string> {
    await c.ensureLoaded();
    if (!c.joined) {
      const state = await this.ctx.client.group(c.conv);
      const abandoned = state && state.epoch === 0 && state.headSeq === 0 && this.ctx.now() - state.createdAt >= this.abandonedAfter;
      if (abandoned || (!state && (await this.ctx.client.createGroup(c.conv)))) {
        await c.create();
        await c.firstCommit();
      }
      if (!c.joined) throw new SendRefused('waiting_for_keys', WAITING_MESSAGE, true);
    }
    if (c.needsCatchUp) await c.catchUp();
    if (c.joined && this.ctx.now() - c.lastReconcile > this.reconcileEvery) c.want('full');
    if (c.joined && c.needsReconcile) {
      // A failed check must not stop the send: the roster is still the one last agreed.
      await c.reconcile(c.needsReconcile).catch(() => undefined);
      this.retryMissingPackages(c);
    }
    // Rotation is due now and then, not for this message: a failed one (rate limit, network) waits for the next send.
    if (c.joined && !c.stuck) await c.maybeRotate().catch(() => undefined);
    if (!c.joined) throw new SendRefused('waiting_for_keys', WAITING_MESSAGE, true);
    if (c.stuck) throw new SendRefused('group_stuck', 'This conversation’s encryption could not follow a change made by another member, so this device cannot send here.');
    // Fail closed: someone removed is still in the group (the commit removing them could not be made yet).
    if (c.removalOverdue()) throw new SendRefused('removal_pending', REMOVAL_PENDING_MESSAGE, true);
    return c.seal(content);
  }

  async decode(conv: string, msg: { seq: number; sender: string; body: string }): Promise<DecodedBody> {
    try {
      const c = this.conv(conv);
      return c.cached(msg.seq) ?? (await this.run(conv, () => c.open(msg)));
    } catch {
      return refusal('decode_error');
    }
  }

  onFrame(f: ServerFrame): void {
    if (this.closed) return;
    switch (f.t) {
      case 'mls.welcome':
        if (f.device === this.deviceId) this.track(this.pickUpWelcomes());
        break;
      case 'mls.commit': {
        const c = this.convs.get(f.conv);
        if (!c?.group || BigInt(f.epoch) > c.group.epoch) this.schedule(f.conv, { catchUp: true });
        break;
      }
      case 'mls.removal':
        this.conv(f.conv).announceRemoval(f.userId);
        this.schedule(f.conv, { catchUp: true, reconcile: 'quick' });
        break;
      case 'mls.members':
        // Someone joined or certified a new device (e.g. restored with the recovery key): add it.
        this.schedule(f.conv, { reconcile: 'full' });
        break;
      case 'conversations':
        if (f.removed) {
          const c = this.conv(f.removed);
          this.track(this.run(f.removed, () => c.leave()));
        }
        this.track(this.forEachKnown((conv) => this.schedule(conv, { reconcile: 'quick' })));
        break;
      default:
        break;
    }
  }

  onConnected(): void {
    if (this.closed) return;
    this.track(this.pickUpWelcomes());
    this.track(this.forEachKnown((conv) => this.schedule(conv, { catchUp: true, reconcile: 'full' })));
  }

  close(): void {
    this.closed = true;
    if (this.pins instanceof VaultPinStore) this.pins.close();
    for (const t of this.timers.values()) {
      clearTimeout(t.timer);
      t.release();
    }
    this.timers.clear();
  }

  // ------------------------------------------------------------ background work

  private async forEachKnown(f: (conv: string) => void): Promise<void> {
    const all = new Set([...this.convs.keys(), ...(await this.ctx.store.conversations())]);
    for (const conv of all) f(conv);
  }

  /** Runs a catch-up and/or roster check of `conv` soon (staggered by leaf rank when it may commit). */
  /** Runs `task` after `delay` ms, once per key; `idle()` waits for it, `close()` drops it. */
  private later(key: string, delay: number, task: () => void): void {
    if (this.closed || this.timers.has(key)) return;
    let release!: () => void;
    this.track(new Promise<void>((r) => (release = r)));
    const timer = setTimeout(() => {
      this.timers.delete(key);
      task();
      release();
    }, delay);
    this.timers.set(key, { timer, release });
  }

  private schedule(conv: string, what: { catchUp?: boolean; reconcile?: 'quick' | 'full' }): void {
    if (this.closed) return;
    const c = this.conv(conv);
    if (what.catchUp) c.needsCatchUp = true;
    if (what.reconcile) c.want(what.reconcile);
    const delay = what.reconcile ? Math.min(c.rank() * this.stagger, STAGGER_CAP_MS) : 0;
    this.later(conv, delay, () => this.track(this.run(conv, () => this.syncGroup(c))));
  }

  private async syncGroup(c: ConversationGroup): Promise<void> {
    if (this.closed) return;
    await c.ensureLoaded();
    if (!c.joined) return;
    try {
      if (c.needsCatchUp) await c.catchUp();
      if (c.joined && c.needsReconcile) {
        await c.reconcile(c.needsReconcile);
        this.retryMissingPackages(c);
      }
    } catch (err) {
      // Over the server's read budget: come back when it says, with the work still flagged.
      if (err instanceof MlsApiError && err.code === 'RATE_LIMITED') {
        const wait = Number(err.details.retryAfterSeconds) || 10;
        this.later(`limited:${c.conv}`, wait * 1000, () => this.schedule(c.conv, {}));
      }
      throw err;
    }
  }

  /**
   * A device announced before its KeyPackages were uploaded (the certificate comes first) had none
   * to claim: look again a little later, a few times, doubling the wait.
   */
  private retryMissingPackages(c: ConversationGroup): void {
    if (!c.devicesWithoutPackages) {
      c.packageRetries = 0;
      return;
    }
    if (c.packageRetries >= PACKAGE_RETRIES) return;
    const delay = this.packageRetryMs * 2 ** c.packageRetries++;
    this.later(`packages:${c.conv}`, delay, () => this.schedule(c.conv, { reconcile: 'full' }));
  }

  /** Fetches every Welcome for this device (paging), joins, acknowledges; fires KEYS_EVENT on a join. */
  pickUpWelcomes(): Promise<void> {
    if (this.welcomesRun) {
      this.welcomesAgain = true;
      return this.welcomesRun;
    }
    this.welcomesRun = (async () => {
      try {
        do {
          this.welcomesAgain = false;
          let joined = false;
          let after: string | undefined;
          // The server keeps at most 64 Welcomes per device (4 pages): a server that pages forever is cut off.
          for (let pages = 0; pages < MAX_WELCOME_PAGES; pages++) {
            const page = await this.ctx.client.welcomes(after);
            for (const w of page.welcomes) {
              const c = this.conv(w.conv);
              if (await this.run(w.conv, () => c.joinFrom(w))) joined = true;
            }
            if (!page.hasMore || !page.next) break;
            after = page.next;
          }
          if (joined) {
            this.keysArrived();
            if (this.opts.keyPackages.topUp) this.track(this.opts.keyPackages.topUp());
          }
        } while (this.welcomesAgain && !this.closed);
      } finally {
        this.welcomesRun = undefined;
      }
    })();
    return this.welcomesRun;
  }

  /** Resolves once nothing is queued, scheduled or uploading (tests; a page may await it on sign-out). */
  async idle(): Promise<void> {
    for (;;) {
      await this.queue.idle();
      if (this.background.size) {
        await Promise.all([...this.background]);
        continue;
      }
      await this.ctx.archive.idle();
      if (!this.background.size && !this.timers.size) return;
    }
  }

  /** Catches `conv` up with the log and checks its roster now (what frames schedule, without the stagger). */
  async sync(conv: string): Promise<void> {
    const c = this.conv(conv);
    c.needsCatchUp = true;
    c.want('full');
    await this.run(conv, () => this.syncGroup(c));
  }

  /** The devices in `conv`'s group as this device sees them (empty until it joined). */
  async roster(conv: string): Promise<Member[]> {
    const c = this.conv(conv);
    return this.run(conv, async () => {
      await c.ensureLoaded();
      return c.members();
    });
  }

  /** The MLS epoch this device holds for `conv`, or undefined before it joined. */
  async epoch(conv: string): Promise<number | undefined> {
    const c = this.conv(conv);
    return this.run(conv, async () => {
      await c.ensureLoaded();
      return c.joined ? Number(c.group!.epoch) : undefined;
    });
  }

  /** True once this device holds `conv`'s group (it can send there). */
  async isJoined(conv: string): Promise<boolean> {
    const c = this.conv(conv);
    return this.run(conv, async () => {
      await c.ensureLoaded();
      return c.joined;
    });
  }

  // ------------------------------------------------------------ key changes and verification

  /** Contacts whose account key changed and who block sending until acknowledged. */
  async keyChanges(): Promise<KeyChangeNotice[]> {
    const names = new Map<string, string>();
    for (const c of this.convs.values()) for (const [id, n] of c.names) names.set(id, n);
    return (await this.pins.list())
      .filter((p) => p.pendingKey)
      .map((p) => ({ userId: p.userId, ...(names.has(p.userId) ? { username: names.get(p.userId) } : {}), previous: p.accountKey, next: p.pendingKey! }));
  }

  /** The user accepted `userId`'s new account key: sending to them works again. */
  async acknowledgeKeyChange(userId: string, shownKey?: Uint8Array): Promise<boolean> {
    // Accept only the key whose safety number the user was shown: another may have arrived since.
    const pin = await this.pins.get(userId);
    if (shownKey && !(pin?.pendingKey && equalBytes(pin.pendingKey, shownKey))) return false;
    await acknowledgeKeyChange(this.pins, userId, this.ctx.now());
    // Devices under the accepted key were held back (membership.ts DeviceTrust): add them before the next send.
    for (const c of this.convs.values()) c.want('full');
    this.dispatchEvent(new Event(WARNINGS_EVENT));
    this.keysArrived();
    return true;
  }

  /** The user compared the safety number for `userId`'s current key (or `accountKey`, the one they compared). */
  async markVerified(userId: string, accountKey?: Uint8Array): Promise<void> {
    const key = accountKey ?? (await this.safetyInputs(userId)).them.accountKey;
    await markVerified(this.pins, userId, key, this.ctx.now());
    this.dispatchEvent(new Event(WARNINGS_EVENT));
    this.keysArrived();
  }

  /**
   * Both account keys for the safety number with `userId`: the pinned one (the new one while a
   * change is pending), else the key of their first device whose certificate verifies (pinned now).
   */
  async safetyInputs(userId: string): Promise<SafetyInputs> {
    const me = { userId: this.userId, accountKey: parseDeviceCertificate(this.opts.device.certificate).accountKey };
    let pin = await this.pins.get(userId);
    if (!pin) {
      for (const d of (await this.ctx.client.userDevices(userId)).devices) {
        try {
          const cert = await verifyDeviceCertificate(fromB64Url(d.certificate));
          if (cert.userId !== userId || cert.deviceId !== d.id) continue;
          await checkPin(this.pins, userId, cert.accountKey, this.ctx.now());
          break;
        } catch {
          continue;
        }
      }
      pin = await this.pins.get(userId);
      if (!pin) throw new SendRefused('no_keys', 'This person has no device with end-to-end keys yet.');
    }
    return { me, them: { userId, accountKey: pin.pendingKey ?? pin.accountKey }, verified: pin.verified && !pin.pendingKey, changed: !!pin.pendingKey };
  }

  /** True when `userId`'s current account key was verified (the badge). */
  async isVerified(userId: string): Promise<boolean> {
    const pin = await this.pins.get(userId);
    return !!pin?.verified && !pin.pendingKey;
  }
}
