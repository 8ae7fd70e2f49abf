/**
 * One conversation's MLS group as this device holds it, kept in step with the server's handshake
 * log: load or create it, apply commits in log order, commit membership changes and rotations
 * (rebuilt on the new epoch after a lost race, so the group never forks), join from a Welcome, and
 * seal or open envelopes. Every method runs inside the codec's per-conversation queue: one
 * operation at a time, one commit in flight.
 */
import type { CommitAccepted, LogEntry, WelcomeView } from '../../../../src/shared/mls-api.ts';
import { equalBytes, fromBase64, toBase64 } from '../../crypto/bytes.ts';
import {
  conversationGroupId,
  CryptoError,
  isCryptoError,
  MlsGroup,
  assertSendAllowed,
  openEnvelope,
  parseDeviceCertificate,
  readEnvelopeHeader,
  sealEnvelope,
  shouldRotateEpoch,
  type AddRequest,
  type EpochKeys,
  type Member,
  type MessageContent,
  type PendingCommit,
} from '../../crypto/index.ts';
import { ApiError } from '../../state/api.ts';
import { SendRefused, type DecodedBody } from '../../state/body-codec.ts';
import { fromB64Url, toB64Url } from '../b64url.ts';
import { MlsApiError, staleEpochDetails } from '../mls-client.ts';
import type { EngineContext } from './context.ts';
import type { Usage } from './group-store.ts';
import { diffRoster, readDirectory, rosterMatchesMembers, type DeviceTrust, type Directory } from './membership.ts';
import { refusal } from './refusals.ts';
import { SeqReplayWindow } from './replay.ts';

/** Lost races retried before giving up until the next trigger (each retry first applies the winner). */
const MAX_COMMIT_ATTEMPTS = 8;
/** Pages of the log read in one catch-up at most (100 commits each). */
const MAX_LOG_PAGES = 1000;
/** Decoded bodies remembered per conversation (by seq). */
const DECODED_CACHE = 5000;
/** The server's archive is re-read for a missing epoch at most this often, ms. */
const ARCHIVE_REFRESH_MS = 15_000;
/** A message from an epoch the log does not (yet) lead to re-reads the log at most this often, ms. */
const CATCH_UP_RETRY_MS = 3000;
/** Persist the usage counter every this many envelopes (it only decides when to rotate). */
const USAGE_SAVE_EVERY = 50;

export const WAITING_MESSAGE = 'Waiting for another member to add this device to the conversation’s encryption.';

interface CommitPlan {
  pending: PendingCommit;
  welcomeDevices?: string[];
  resolves?: string[];
}

/** The commit cannot be applied: the group is stuck at this epoch on this device. */
class UnreadableCommit extends Error {
  override readonly name = 'UnreadableCommit';
}

export class ConversationGroup {
  group: MlsGroup | null = null;
  usage: Usage = { epochStartedAt: 0, messages: 0 };
  /** Set by frames and joins: the log may hold commits this device has not applied. */
  needsCatchUp = true;
  /**
   * Compare the roster with the conversation: 'quick' (conversation-list and removal frames,
   * roster-changing commits) reads the member list and the directory only if users differ; 'full'
   * (mls.members, connect, join, now and then on send) reads the directory, which also finds new
   * and revoked devices of existing members.
   */
  needsReconcile: false | 'quick' | 'full' = 'full';
  lastReconcile = -Infinity;
  /** A commit posted whose answer was lost (network) and that the log has not shown yet. */
  private unconfirmed: { epoch: number; commit: string; pending: PendingCommit } | undefined;
  /** When the log was last read, ms (a decode ahead of us re-reads it at most every CATCH_UP_RETRY_MS). */
  private lastCatchUp = -Infinity;
  /** Devices the last roster check could not add because they had no KeyPackage to claim. */
  devicesWithoutPackages = 0;
  /** Re-checks made for them so far (the codec backs off). */
  packageRetries = 0;
  /** Why this device cannot follow the group any more (a commit it cannot apply), if so. */
  stuck: string | undefined;
  /** Member user id → username, from the last directory. */
  readonly names = new Map<string, string>();
  /** The conversation's members as last read from the server (a send is blocked by any of their key changes). */
  private memberIds = new Set<string>();
  /** Users the server announced as removed whose leaves no commit has taken out yet. */
  private readonly announcedRemovals = new Set<string>();
  /** The generation tag of the stored state this object reflects (undefined: not loaded yet). */
  private generation: string | null | undefined;
  private currentKeys: EpochKeys | undefined;
  private readonly replay = new SeqReplayWindow();
  private readonly decoded = new Map<number, DecodedBody>();
  private sinceSave = 0;

  constructor(
    readonly conv: string,
    private readonly ctx: EngineContext,
  ) {}

  /** Asks for a roster check of at least this depth. */
  want(depth: 'quick' | 'full'): void {
    if (this.needsReconcile !== 'full') this.needsReconcile = depth;
  }

  get joined(): boolean {
    return this.group?.active === true;
  }

  /** Our leaf's position among the leaves (0 = acts first on membership changes). */
  rank(): number {
    if (!this.group?.active) return 0;
    const own = this.group.ownLeafIndex;
    return this.group.members().filter((m) => m.leafIndex < own).length;
  }

  /**
   * Resumes from the vault: on first use, and again whenever another tab changed the stored state
   * (its generation tag moved). A state of another device (before a restore) is dropped.
   */
  async ensureLoaded(): Promise<void> {
    const gen = await this.ctx.store.generation(this.conv);
    if (this.generation !== undefined && gen === this.generation) return;
    this.generation = gen;
    this.group = null;
    this.currentKeys = undefined;
    const stored = await this.ctx.store.loadGroup(this.conv);
    if (!stored) return;
    if (stored.deviceId === this.ctx.device.deviceId) {
      try {
        const group = await MlsGroup.load(this.ctx.device, stored.state, this.ctx.pins);
        if (group.active) {
          this.group = group;
          this.usage = stored.usage;
          return;
        }
      } catch (err) {
        if (!(err instanceof CryptoError)) throw err;
      }
    }
    this.generation = await this.ctx.store.deleteGroup(this.conv);
  }

  private async save(): Promise<void> {
    if (!this.group?.active) return;
    this.sinceSave = 0;
    this.generation = await this.ctx.store.saveGroup(this.conv, { deviceId: this.ctx.device.deviceId, state: this.group.encode(), usage: this.usage });
  }

  /** The current epoch's keys (derived once per epoch). */
  private async keys(): Promise<EpochKeys> {
    const g = this.group!;
    if (!this.currentKeys || this.currentKeys.epoch !== g.epoch) this.currentKeys = await g.epochKeys();
    return this.currentKeys;
  }

  /** A new epoch reached: keep its keys (vault and archive), restart the usage count, save the state. */
  private async onNewEpoch(): Promise<void> {
    const keys = await this.keys();
    await this.ctx.store.raiseFloor(this.conv, keys.epoch);
    if (await this.ctx.store.putEpochKeys(this.conv, keys)) await this.ctx.archive.enqueue(this.conv, keys.epoch);
    this.usage = { epochStartedAt: this.ctx.now(), messages: 0 };
    await this.save();
  }

  /** This device is out of the group (removed by a commit, or lost access): keep old epochs' keys only. */
  async leave(): Promise<void> {
    this.group = null;
    this.currentKeys = undefined;
    this.generation = await this.ctx.store.deleteGroup(this.conv);
  }

  /** We were first: a fresh group with only this device at epoch 0 (the first commit follows at once). */
  async create(): Promise<void> {
    this.group = await MlsGroup.create(this.ctx.device, conversationGroupId(this.conv), this.ctx.pins);
    this.stuck = undefined;
    this.needsCatchUp = false;
    this.needsReconcile = 'full';
    await this.onNewEpoch();
  }

  /**
   * The creator's first commit: adds every member's devices, or (nobody to add yet) rotates, so a
   * group at epoch 0 without commits always means its creator went away before committing.
   */
  async firstCommit(): Promise<void> {
    // Without the directory (rate limit, network) the group starts with only us; members follow on the next check.
    await this.reconcile().catch(() => this.want('full'));
    await this.commit(async () => (this.group?.epoch === 0n ? { pending: await this.group.selfUpdate() } : null));
  }

  // ------------------------------------------------------------ the handshake log

  /** Applies one log entry; entries of past epochs (e.g. our own commit echoed back) are skipped. */
  private async apply(e: LogEntry): Promise<'applied' | 'skipped' | 'gap'> {
    const g = this.group;
    if (!g?.active) return 'skipped';
    const epoch = BigInt(e.epoch);
    if (epoch < g.epoch) return 'skipped';
    if (epoch > g.epoch) return 'gap';
    const mine = this.unconfirmed;
    if (mine && mine.epoch === e.epoch) {
      this.unconfirmed = undefined;
      // Our own commit, stored although its answer was lost: MLS cannot process one's own commit, adopt it.
      if (mine.commit === e.commit) {
        this.group = mine.pending.accept();
        await this.onNewEpoch();
        return 'applied';
      }
    }
    let res;
    try {
      res = await g.process(fromB64Url(e.commit));
    } catch (err) {
      if (isCryptoError(err, 'mls_rejected') && err.details.reason === 'stale_epoch') return 'skipped';
      if (g.epoch === 0n) {
        // Another device won the first commit of a group we also created: its group is the real one,
        // and its Welcome will bring this device in.
        await this.leave();
        return 'skipped';
      }
      const why = err instanceof Error ? err.message : String(err);
      this.stuck = why;
      this.ctx.warn({ code: 'commit_unreadable', conv: this.conv, deviceId: e.sender, message: `A change to this conversation’s encryption could not be applied (${why}); new messages here may not open on this device.` });
      throw new UnreadableCommit(why);
    }
    this.group = res.group;
    if (res.keyChanges.length) this.ctx.keyChanged(res.keyChanges);
    if (res.removedSelf) {
      await this.leave();
      return 'applied';
    }
    if (res.added.length || res.removed.length) this.want('quick');
    if (res.removed.length) this.removalsDone(res.removed.map((m) => m.userId));
    await this.onNewEpoch();
    return 'applied';
  }

  /** Applies entries in epoch order (the server's order, which a lying server could shuffle); false at a gap. */
  private async applyAll(entries: LogEntry[]): Promise<boolean> {
    for (const e of [...entries].sort((a, b) => a.epoch - b.epoch)) if ((await this.apply(e)) === 'gap') return false;
    return true;
  }

  /** Applies every commit in the log after our epoch. */
  async catchUp(): Promise<void> {
    this.needsCatchUp = false;
    this.lastCatchUp = this.ctx.now();
    for (let pages = 0; pages < MAX_LOG_PAGES; pages++) {
      if (!this.group?.active || this.stuck) return;
      let page;
      try {
        page = await this.ctx.client.logPage(this.conv, Number(this.group.epoch));
      } catch (err) {
        if (err instanceof ApiError && err.code === 'NOT_FOUND') return this.leave();
        this.needsCatchUp = true;
        throw err;
      }
      const before = this.group.epoch;
      const contiguous = await this.applyAll(page.entries);
      if (contiguous && !page.hasMore) return;
      if (this.group?.epoch === before) {
        // Nothing applied (a gap the server does not fill): try again on the next trigger, not in a loop.
        this.needsCatchUp = true;
        return;
      }
    }
  }

  /**
   * Posts one commit built by `build` on the current epoch. On 409 it applies the winners and
   * rebuilds (the build decides again whether anything is left to do); returns null when nothing was.
   */
  private async commit(build: () => Promise<CommitPlan | null>, onLostRace?: () => Promise<void>): Promise<CommitAccepted | null> {
    for (let attempt = 0; attempt < MAX_COMMIT_ATTEMPTS; attempt++) {
      const g = this.group;
      if (!g?.active || this.stuck) return null;
      const plan = await build();
      if (!plan) return null;
      const epoch = Number(g.epoch);
      const commit = toB64Url(plan.pending.commit);
      const body = {
        epoch,
        commit,
        ...(plan.pending.welcome && plan.welcomeDevices?.length ? { welcome: { bytes: toB64Url(plan.pending.welcome), devices: plan.welcomeDevices } } : {}),
        ...(plan.resolves?.length ? { resolvesRemovals: plan.resolves } : {}),
      };
      let accepted: CommitAccepted;
      try {
        accepted = await this.ctx.client.postCommit(this.conv, body);
      } catch (err) {
        const stale = staleEpochDetails(err);
        if (stale) {
          const contiguous = await this.applyAll(stale.commits);
          if (!contiguous || stale.hasMore || !stale.commits.length) await this.catchUp();
          if (onLostRace) await onLostRace();
          continue;
        }
        if (err instanceof ApiError && err.code === 'NETWORK') {
          // The server may have stored it before the connection dropped: our own commit cannot be
          // processed like another's, so look for it and adopt it.
          const first = (await this.ctx.client.logPage(this.conv, epoch, 1).catch(() => null))?.entries[0];
          if (first && first.epoch === epoch && first.commit === commit) {
            this.group = plan.pending.accept();
            await this.onNewEpoch();
            return { seq: first.seq, epoch: epoch + 1 };
          }
          // Not known yet either way: if the log later shows this very commit, apply() adopts it.
          if (!first) this.unconfirmed = { epoch, commit, pending: plan.pending };
        }
        throw err;
      }
      this.group = plan.pending.accept();
      await this.onNewEpoch();
      return accepted;
    }
    return null;
  }

  // ------------------------------------------------------------ membership

  /**
   * Makes the roster match the conversation: one commit removing leaves of users who are no longer
   * members and of revoked devices (naming the pending removals it resolves), then one adding every
   * member's verified devices that have no leaf (Welcome to those devices).
   */
  /** Whose devices this device will add: see DeviceTrust. */
  private trust(): DeviceTrust {
    return {
      ownUserId: this.ctx.userId,
      ownAccountKey: parseDeviceCertificate(this.ctx.device.certificate).accountKey,
      pins: this.ctx.pins,
      now: this.ctx.now,
      keyChanged: (changes) => this.ctx.keyChanged(changes),
    };
  }

  async reconcile(depth: 'quick' | 'full' = 'full'): Promise<void> {
    this.needsReconcile = false;
    if (!this.group?.active || this.stuck) return;
    let dir: Directory;
    try {
      const state = await this.ctx.client.group(this.conv);
      if (depth === 'quick') {
        const list = await this.ctx.client.conversationMembers(this.conv);
        for (const m of list) this.names.set(m.id, m.username);
        this.memberIds = new Set(list.map((m) => m.id));
        if (rosterMatchesMembers(this.group.members(), list, state)) return;
      }
      dir = await readDirectory(this.ctx.client, this.conv, state, this.trust());
    } catch (err) {
      if (err instanceof ApiError && err.code === 'NOT_FOUND') return this.leave();
      this.want(depth);
      throw err;
    }
    this.lastReconcile = this.ctx.now();
    for (const [id, name] of dir.members) this.names.set(id, name);
    this.memberIds = new Set(dir.members.keys());
    for (const r of dir.refused) {
      this.ctx.warn({
        code: 'invalid_device',
        conv: this.conv,
        userId: r.userId,
        deviceId: r.deviceId,
        message: `A device listed for ${dir.members.get(r.userId) ?? 'a member'} was refused because its certificate does not verify (${r.why}). It cannot read this conversation.`,
      });
    }
    const refreshRemovals = async () => {
      dir.pendingRemovals = (await this.ctx.client.group(this.conv))?.pendingRemovals ?? [];
    };
    let removing: string[] = [];
    const removed = await this.commit(async () => {
      const d = diffRoster(this.group!.members(), this.group!.ownLeafIndex, dir);
      if (!d.remove.length) return null;
      removing = d.remove.map((m) => m.userId);
      return { pending: await this.group!.remove({ deviceIds: d.remove.map((m) => m.deviceId) }), resolves: d.resolves };
    }, refreshRemovals);
    if (removed) this.removalsDone(removing);
    // The removal commit claimed them: the same directory must not remove the fresh leaves again.
    if (this.group?.active) await refreshRemovals();
    await this.addMissing(dir);
  }

  private async addMissing(dir: Directory): Promise<void> {
    const claimed = new Map<string, AddRequest>();
    const refused = new Set<string>();
    const exhausted = new Set<string>();
    this.devicesWithoutPackages = 0;
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await this.addOnce(dir, claimed, refused, exhausted);
        return;
      } catch (err) {
        if (!(err instanceof MlsApiError && err.code === 'MLS_WELCOME_INBOX_FULL')) throw err;
        // Those devices have too many Welcomes waiting: add the others now, them on a later check.
        const full = Array.isArray(err.details.devices) ? (err.details.devices as string[]) : [];
        for (const id of full) exhausted.add(id);
        this.ctx.warn({ code: 'commit_failed', conv: this.conv, message: 'A member’s device has too many invitations waiting, so it was not added yet; it will be once it picks them up.' });
        if (!full.length) return;
      }
    }
  }

  private async addOnce(dir: Directory, claimed: Map<string, AddRequest>, refused: Set<string>, exhausted: Set<string>): Promise<void> {
    await this.commit(async () => {
      const g = this.group!;
      const missing = diffRoster(g.members(), g.ownLeafIndex, dir).add.filter((d) => !refused.has(d.deviceId) && !exhausted.has(d.deviceId));
      const byUser = new Map<string, string[]>();
      for (const d of missing) if (!claimed.has(d.deviceId)) byUser.set(d.userId, [...(byUser.get(d.userId) ?? []), d.deviceId]);
      for (const [userId, devices] of byUser) {
        const got = await this.ctx.client.claimKeyPackages(userId, devices);
        for (const p of got.packages) if (devices.includes(p.device)) claimed.set(p.device, { userId, keyPackage: fromB64Url(p.keyPackage) });
        for (const id of got.exhausted) {
          exhausted.add(id);
          this.devicesWithoutPackages++;
        }
      }
      let targets = missing.filter((d) => claimed.has(d.deviceId));
      if (!targets.length) return null;
      let pending: PendingCommit;
      try {
        pending = await g.add(targets.map((d) => claimed.get(d.deviceId)!));
      } catch (err) {
        if (!isCryptoError(err, 'member_refused')) throw err;
        // Find the packages that fail the credential check (swapped or forged) and add the rest.
        const good = [];
        for (const d of targets) {
          try {
            await g.add([claimed.get(d.deviceId)!]);
            good.push(d);
          } catch (one) {
            if (!isCryptoError(one, 'member_refused')) throw one;
            refused.add(d.deviceId);
            this.ctx.warn({
              code: 'key_package_refused',
              conv: this.conv,
              userId: d.userId,
              deviceId: d.deviceId,
              message: `A key package the server handed out for ${dir.members.get(d.userId) ?? 'a member'} was refused (it is not that device’s own). That device was not added.`,
            });
          }
        }
        targets = good;
        if (!targets.length) return null;
        pending = await g.add(targets.map((d) => claimed.get(d.deviceId)!));
      }
      return { pending, welcomeDevices: targets.map((d) => d.deviceId) };
    });
  }

  /** Rotates the epoch when it is old or has carried many envelopes (an empty self-update commit). */
  async maybeRotate(): Promise<void> {
    await this.commit(async () => {
      const decision = shouldRotateEpoch(this.usage, this.ctx.now(), this.ctx.rotation);
      return decision.rotate ? { pending: await this.group!.selfUpdate() } : null;
    });
  }

  // ------------------------------------------------------------ Welcomes

  /** Joins from a Welcome (unless this device already is at or past its epoch); true when it joined. */
  async joinFrom(w: WelcomeView): Promise<boolean> {
    await this.ensureLoaded();
    if (this.group?.active && this.group.epoch < BigInt(w.epoch)) await this.catchUp().catch(() => undefined);
    if (this.group?.active && this.group.epoch >= BigInt(w.epoch) && !this.stuck) {
      await this.ctx.client.deleteWelcome(w.id);
      return false;
    }
    const secrets = await this.ctx.keyPackages.secrets();
    let joined;
    try {
      joined = await MlsGroup.join(this.ctx.device, fromB64Url(w.welcome), secrets, this.ctx.pins, { expectedGroupId: conversationGroupId(this.conv) });
    } catch (err) {
      if (!(err instanceof CryptoError)) throw err;
      this.ctx.warn({ code: 'welcome_refused', conv: this.conv, message: `An invitation into this conversation’s encryption was refused (${err.code}); another member will need to add this device again.` });
      await this.ctx.client.deleteWelcome(w.id);
      return false;
    }
    // The epoch the Welcome really leads to (not the server's label): never back to one already passed.
    if (joined.group.epoch <= (await this.ctx.store.floor(this.conv))) {
      this.ctx.warn({
        code: 'welcome_refused',
        conv: this.conv,
        message: 'An old invitation into this conversation’s encryption was delivered again and refused: this device had already moved past it.',
      });
      await this.ctx.client.deleteWelcome(w.id);
      return false;
    }
    this.group = joined.group;
    this.stuck = undefined;
    // A fresh roster from the Welcome: removals announced for the old one do not apply to it.
    this.announcedRemovals.clear();
    if (joined.keyChanges.length) this.ctx.keyChanged(joined.keyChanges);
    await this.onNewEpoch();
    await this.ctx.client.deleteWelcome(w.id);
    const used = secrets.find((k) => equalBytes(k.ref, joined.usedRef));
    if (used && !used.lastResort) await this.ctx.keyPackages.consume(joined.usedRef);
    this.want('full');
    await this.catchUp().catch(() => undefined);
    return true;
  }

  // ------------------------------------------------------------ envelopes

  /** Seals `content` for the current epoch: the wire body (base64). */
  async seal(content: MessageContent): Promise<string> {
    let sealed;
    try {
      // A member whose key changed may have no leaf yet (their new devices wait for the user to
      // accept the key), so the roster alone would let the send through to everyone else.
      await assertSendAllowed(this.ctx.pins, this.memberIds);
      sealed = await sealEnvelope({ keys: await this.keys(), sender: this.ctx.device, channel: '', content, pins: this.ctx.pins, now: this.ctx.now() });
    } catch (err) {
      if (isCryptoError(err, 'send_blocked')) {
        const ids = (err.details.userIds as string[] | undefined) ?? [];
        const who = ids.map((id) => this.names.get(id) ?? 'a member').join(', ');
        throw new SendRefused('send_blocked', `The safety number of ${who} changed. Review it before sending.`);
      }
      throw err;
    }
    await this.counted();
    return toBase64(sealed.envelope);
  }

  private async counted(): Promise<void> {
    this.usage.messages++;
    if (++this.sinceSave >= USAGE_SAVE_EVERY) await this.save();
  }

  /** A decoded body remembered for this seq, if any. */
  cached(seq: number): DecodedBody | undefined {
    return this.decoded.get(seq);
  }

  private remember(seq: number, d: DecodedBody): DecodedBody {
    if (d.ok || !d.retryable) {
      this.decoded.set(seq, d);
      if (this.decoded.size > DECODED_CACHE) this.decoded.delete(this.decoded.keys().next().value as number);
    }
    return d;
  }

  private async keysFor(epoch: bigint): Promise<EpochKeys | undefined> {
    if (this.group?.active && epoch === this.group.epoch) return this.keys();
    const held = await this.ctx.store.epochKeys(this.conv, epoch);
    if (held) return held;
    const archived = this.ctx.archive.lookup(this.conv, epoch);
    if (archived) await this.ctx.store.putEpochKeys(this.conv, archived);
    return archived;
  }

  /** Opens one stored or live message. Never throws for a bad envelope: every failure is a refusal. */
  async open(msg: { seq: number; sender: string; body: string }): Promise<DecodedBody> {
    const hit = this.decoded.get(msg.seq);
    if (hit) return hit;
    let bytes: Uint8Array;
    let epoch: bigint;
    try {
      bytes = fromBase64(msg.body);
      epoch = readEnvelopeHeader(bytes).epoch;
    } catch (err) {
      return this.remember(msg.seq, refusal(isCryptoError(err) ? err.code : 'malformed'));
    }
    await this.ensureLoaded();
    // Ahead of us: catch up, unless a catch-up just found nothing more (then once per few seconds, not per message).
    if (this.group?.active && epoch > this.group.epoch && !this.stuck && (this.needsCatchUp || this.ctx.now() - this.lastCatchUp >= CATCH_UP_RETRY_MS)) {
      await this.catchUp().catch(() => undefined);
    }
    const attempt = () =>
      openEnvelope({ envelope: bytes, groupId: conversationGroupId(this.conv), channel: '', keysFor: (e) => this.keysFor(e), replay: this.replay.at(msg.seq) });
    let opened;
    try {
      try {
        opened = await attempt();
      } catch (err) {
        if (!isCryptoError(err, 'unknown_epoch') || !(await this.ctx.archive.refresh(ARCHIVE_REFRESH_MS))) throw err;
        opened = await attempt();
      }
    } catch (err) {
      if (!isCryptoError(err)) throw err;
      if (err.code === 'unknown_epoch' && !this.group?.active) return refusal('waiting_for_keys');
      if (err.code === 'unknown_epoch' && epoch > this.group!.epoch) return refusal('catching_up');
      return this.remember(msg.seq, refusal(err.code));
    }
    // The server says who sent it; the signature says which member did. They must agree.
    if (opened.sender.userId !== msg.sender) return this.remember(msg.seq, refusal('wrong_sender'));
    if (this.group?.active && opened.header.epoch === this.group.epoch) await this.counted();
    return this.remember(msg.seq, { ok: true, content: opened.content, id: opened.id, deviceId: opened.sender.deviceId });
  }

  /** The roster now (for the UI's device list and tests). */
  members(): Member[] {
    return this.group?.active ? this.group.members() : [];
  }

  /** The server announced (mls.removal) that `userId` must go: until a commit takes their leaves out, nothing is sent. */
  announceRemoval(userId: string): void {
    if (userId !== this.ctx.userId) this.announcedRemovals.add(userId);
  }

  private removalsDone(userIds: string[]): void {
    let any = false;
    for (const u of userIds) any = this.announcedRemovals.delete(u) || any;
    if (any) this.ctx.rosterChanged();
  }

  /**
   * True while a leaf remains of someone announced as removed, or of someone no longer a member:
   * a message sealed now would be readable by them (the check that would remove them failed).
   */
  removalOverdue(): boolean {
    if (!this.group?.active) return false;
    const own = this.group.ownLeafIndex;
    const leaves = this.group.members().filter((m) => m.leafIndex !== own);
    for (const u of [...this.announcedRemovals]) if (!leaves.some((m) => m.userId === u)) this.announcedRemovals.delete(u);
    return leaves.some((m) => this.announcedRemovals.has(m.userId) || (this.memberIds.size > 0 && !this.memberIds.has(m.userId)));
  }
}
