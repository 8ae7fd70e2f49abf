/**
 * The MLS layer (RFC 9420 via ts-mls), behind our own types: everything in and out is bytes or
 * types from this folder, so replacing ts-mls touches only this folder.
 *
 * ts-mls states are immutable values; here an `MlsGroup` is too. Every operation returns a new
 * `MlsGroup` and leaves the old one spent. A commit we create is a `PendingCommit`: the delivery
 * service accepts only one commit per epoch, so the new state is adopted (`accept()`) only after
 * the server took the commit; if it answered 409, drop the pending commit, `process()` the winner
 * on the old group and try again. Consumed secrets are zeroed when a state is superseded.
 */
import {
  createCommit,
  createGroup,
  decodeGroupState,
  decodeMlsMessage,
  defaultCapabilities,
  defaultKeyPackageEqualityConfig,
  defaultKeyRetentionConfig,
  defaultLifetime,
  defaultLifetimeConfig,
  emptyPskIndex,
  encodeGroupState,
  encodeMlsMessage,
  generateKeyPackageWithKey,
  joinGroup,
  mlsExporter,
  processMessage,
  zeroOutUint8Array,
  type ClientConfig,
  type ClientState,
  type IncomingMessageCallback,
  type KeyPackage,
  type Proposal,
} from 'ts-mls';
import { makeKeyPackageRef } from 'ts-mls/keyPackage.js';
import { DeviceCertAuthService, type KeyChange, type Refusal } from './auth-service.ts';
import { ByteReader, ByteWriter, equalBytes, utf8 } from './bytes.ts';
import { CryptoError } from './errors.ts';
import { parseDeviceCertificate, type DeviceIdentity } from './identity.ts';
import type { PinStore } from './pins.ts';
import { mlsSuite } from './provider.ts';

/** MLS-Exporter label for the per-epoch content secret E_e (research §7.6). */
export const CONTENT_EXPORTER_LABEL = 'chatroom v1 content';

/** A member (one device) of a group at one epoch. */
export interface Member {
  leafIndex: number;
  userId: string;
  deviceId: string;
  /** Account key from the member's device certificate (32 bytes). */
  accountKey: Uint8Array;
  /** Device signature key: the MLS leaf key, which also signs content envelopes (32 bytes). */
  signatureKey: Uint8Array;
}

/** What a device keeps to verify and decrypt one epoch's content; archived in the backup. */
export interface EpochKeys {
  groupId: Uint8Array;
  epoch: bigint;
  /** E_e = MLS-Exporter("chatroom v1 content", "", 32). */
  contentSecret: Uint8Array;
  /** Who could send in this epoch, so old envelopes stay verifiable after members leave. */
  roster: Member[];
}

/** A KeyPackage we generated: `keyPackage` is uploaded, `secret` stays here (encrypted at rest). */
export interface OwnKeyPackage {
  /** MLSMessage-encoded KeyPackage for the directory. */
  keyPackage: Uint8Array;
  /** KeyPackageRef (RFC 9420 §5.2), how a Welcome names it. */
  ref: Uint8Array;
  /** Reusable until replaced (handed out when one-time packages run out). */
  lastResort: boolean;
  /** Private keys (init, HPKE leaf); never leaves the device. */
  secret: Uint8Array;
}

/** The result of processing a handshake message. */
export interface ProcessResult {
  group: MlsGroup;
  kind: 'commit' | 'proposal';
  /** Members present after but not before. */
  added: Member[];
  /** Members present before but not after. */
  removed: Member[];
  /** True when this commit removed us: the group can no longer send or decrypt new epochs. */
  removedSelf: boolean;
  /** Contacts whose account key differs from the pin (sending to them is blocked until acknowledged). */
  keyChanges: KeyChange[];
}

/** The person a KeyPackage is supposed to belong to (the server could hand out someone else's). */
export interface AddRequest {
  userId: string;
  keyPackage: Uint8Array;
}

/** Proposals our groups use; anything else (PSK, reinit, external init, extensions) is refused. */
const ALLOWED_PROPOSALS = new Set<unknown>(['add', 'remove', 'update']);

const policy: IncomingMessageCallback = (incoming) => {
  const proposals = incoming.kind === 'commit' ? incoming.proposals : [incoming.proposal];
  return proposals.every((p) => ALLOWED_PROPOSALS.has(p.proposal.proposalType)) ? 'accept' : 'reject';
};

function clientConfig(auth: DeviceCertAuthService): ClientConfig {
  return {
    keyRetentionConfig: defaultKeyRetentionConfig,
    lifetimeConfig: defaultLifetimeConfig,
    keyPackageEqualityConfig: defaultKeyPackageEqualityConfig,
    // Handshake messages padded to multiples of 256 bytes, like ts-mls's default.
    paddingConfig: { kind: 'padUntilLength', padUntilLength: 256 },
    authService: auth,
  };
}

function credentialOf(device: DeviceIdentity) {
  return { credentialType: 'basic' as const, identity: device.certificate };
}

function mapError(err: unknown, auth: DeviceCertAuthService, what: string): CryptoError {
  if (err instanceof CryptoError) return err;
  const refusals: Refusal[] = [...auth.refusals];
  if (refusals.length) return new CryptoError('member_refused', `${what}: a member's credential was refused (${refusals[0].reason})`, { refusals });
  return new CryptoError('mls_rejected', `${what}: ${err instanceof Error ? err.message : String(err)}`);
}

function decodeMessage(bytes: Uint8Array) {
  let decoded;
  try {
    decoded = decodeMlsMessage(bytes, 0);
  } catch {
    decoded = undefined;
  }
  if (!decoded || decoded[1] !== bytes.length) throw new CryptoError('malformed', 'not an MLS message');
  return decoded[0];
}

function decodeKeyPackage(bytes: Uint8Array): KeyPackage {
  const msg = decodeMessage(bytes);
  if (msg.wireformat !== 'mls_key_package') throw new CryptoError('malformed', 'not an MLS KeyPackage');
  return msg.keyPackage;
}

function rosterOf(state: ClientState): Member[] {
  const out: Member[] = [];
  state.ratchetTree.forEach((node, i) => {
    if (i % 2 !== 0 || !node || node.nodeType !== 'leaf') return;
    const cred = node.leaf.credential;
    if (cred.credentialType !== 'basic') return;
    const cert = parseDeviceCertificate(cred.identity);
    out.push({ leafIndex: i / 2, userId: cert.userId, deviceId: cert.deviceId, accountKey: cert.accountKey, signatureKey: node.leaf.signaturePublicKey });
  });
  return out;
}

function memberKey(m: Member): string {
  return `${m.leafIndex}:${m.deviceId}:${m.signatureKey.join(',')}`;
}

const KP_SECRET_VERSION = 1;

/** Generates `count` one-time KeyPackages, plus a last-resort one when `lastResort` is set. */
export async function generateKeyPackages(device: DeviceIdentity, count: number, opts: { lastResort?: boolean } = {}): Promise<OwnKeyPackage[]> {
  const cs = await mlsSuite();
  const out: OwnKeyPackage[] = [];
  const total = count + (opts.lastResort ? 1 : 0);
  for (let i = 0; i < total; i++) {
    const { publicPackage, privatePackage } = await generateKeyPackageWithKey(
      credentialOf(device),
      defaultCapabilities(),
      defaultLifetime,
      [],
      { signKey: device.signaturePrivateKey, publicKey: device.signaturePublicKey },
      cs,
    );
    const lastResort = i >= count;
    const keyPackage = encodeMlsMessage({ keyPackage: publicPackage, wireformat: 'mls_key_package', version: 'mls10' });
    const secret = new ByteWriter()
      .u8(KP_SECRET_VERSION)
      .u8(lastResort ? 1 : 0)
      .long(keyPackage)
      .long(privatePackage.initPrivateKey)
      .long(privatePackage.hpkePrivateKey)
      .bytes();
    out.push({ keyPackage, ref: await makeKeyPackageRef(publicPackage, cs.hash), lastResort, secret });
  }
  return out;
}

function decodeKeyPackageSecret(secret: Uint8Array, device: DeviceIdentity) {
  const r = new ByteReader(secret);
  const v = r.u8();
  if (v !== KP_SECRET_VERSION) throw new CryptoError('unsupported_version', `KeyPackage secret version ${v}`);
  const lastResort = r.u8() === 1;
  const publicPackage = decodeKeyPackage(r.long());
  const initPrivateKey = r.long();
  const hpkePrivateKey = r.long();
  r.end();
  return { lastResort, publicPackage, privatePackage: { initPrivateKey, hpkePrivateKey, signaturePrivateKey: device.signaturePrivateKey } };
}

/** A commit we made, not yet accepted by the delivery service. */
export class PendingCommit {
  private settled = false;
  constructor(
    /** MLSMessage bytes of the commit, for the group's handshake log. */
    readonly commit: Uint8Array,
    /** MLSMessage bytes of the Welcome for added members (with the ratchet tree), if any. */
    readonly welcome: Uint8Array | undefined,
    private readonly next: () => MlsGroup,
    private readonly consumed: Uint8Array[],
    private readonly previous: MlsGroup,
  ) {}

  /** The delivery service accepted the commit: adopt the new epoch, zero the old epoch's secrets. */
  accept(): MlsGroup {
    if (this.settled) throw new CryptoError('mls_rejected', 'pending commit already settled');
    this.settled = true;
    this.previous.markSpent();
    this.consumed.forEach(zeroOutUint8Array);
    return this.next();
  }
}

/** One device's view of one MLS group at one epoch (immutable). */
export class MlsGroup {
  private spent = false;
  /** The roster of this (immutable) state, parsed once: every send and check reads it. */
  private roster: Member[] | undefined;
  private constructor(
    private readonly state: ClientState,
    private readonly device: DeviceIdentity,
    private readonly pins: PinStore,
    private readonly auth: DeviceCertAuthService,
  ) {}

  /** Creates a group with only us in it; `groupId` is the conversation id's bytes. */
  static async create(device: DeviceIdentity, groupId: Uint8Array, pins: PinStore): Promise<MlsGroup> {
    const cs = await mlsSuite();
    const auth = new DeviceCertAuthService(pins);
    const [kp] = await generateKeyPackages(device, 1);
    const { publicPackage, privatePackage } = decodeKeyPackageSecret(kp.secret, device);
    try {
      const state = await createGroup(groupId, publicPackage, privatePackage, [], cs, clientConfig(auth));
      return new MlsGroup(state, device, pins, auth);
    } catch (err) {
      throw mapError(err, auth, 'create group');
    }
  }

  /**
   * Joins from a Welcome addressed to one of `keyPackages`. Returns the group and the ref of the
   * KeyPackage used (delete its secret unless it is the last-resort one). Pass `expectedGroupId`
   * (the conversation the Welcome was delivered for) to refuse a Welcome for another group.
   */
  static async join(
    device: DeviceIdentity,
    welcome: Uint8Array,
    keyPackages: OwnKeyPackage[],
    pins: PinStore,
    opts: { expectedGroupId?: Uint8Array } = {},
  ): Promise<{ group: MlsGroup; usedRef: Uint8Array; keyChanges: KeyChange[] }> {
    const cs = await mlsSuite();
    const msg = decodeMessage(welcome);
    if (msg.wireformat !== 'mls_welcome') throw new CryptoError('malformed', 'not an MLS Welcome');
    const own = keyPackages.find((k) => msg.welcome.secrets.some((s) => equalBytes(s.newMember, k.ref)));
    if (!own) throw new CryptoError('no_matching_key_package', 'this Welcome is not addressed to any of our KeyPackages');
    const { publicPackage, privatePackage } = decodeKeyPackageSecret(own.secret, device);
    const auth = new DeviceCertAuthService(pins);
    try {
      const state = await joinGroup(msg.welcome, publicPackage, privatePackage, emptyPskIndex, cs, undefined, undefined, clientConfig(auth));
      // The Welcome must be for the conversation the server says it is for.
      if (opts.expectedGroupId && !equalBytes(state.groupContext.groupId, opts.expectedGroupId)) {
        throw new CryptoError('wrong_group', 'this Welcome is for another conversation');
      }
      const keyChanges = [...auth.keyChanges];
      auth.reset();
      return { group: new MlsGroup(state, device, pins, auth), usedRef: own.ref, keyChanges };
    } catch (err) {
      throw mapError(err, auth, 'join from Welcome');
    }
  }

  /** Restores a group from `encode()` bytes. */
  static async load(device: DeviceIdentity, bytes: Uint8Array, pins: PinStore): Promise<MlsGroup> {
    await mlsSuite();
    const r = new ByteReader(bytes);
    const v = r.u8();
    if (v !== GROUP_STATE_VERSION) throw new CryptoError('unsupported_version', `group state version ${v}`);
    const raw = r.rest();
    let decoded;
    try {
      decoded = decodeGroupState(raw, 0);
    } catch {
      decoded = undefined;
    }
    if (!decoded || decoded[1] !== raw.length) throw new CryptoError('malformed', 'group state does not decode');
    const auth = new DeviceCertAuthService(pins);
    return new MlsGroup({ ...decoded[0], clientConfig: clientConfig(auth) }, device, pins, auth);
  }

  /** @internal marks this view superseded (its secrets may be zeroed). */
  markSpent(): void {
    this.spent = true;
  }

  private live(): ClientState {
    if (this.spent) throw new CryptoError('mls_rejected', 'this group state was superseded; use the one returned by the last operation');
    return this.state;
  }

  get groupId(): Uint8Array {
    return this.state.groupContext.groupId.slice();
  }

  get epoch(): bigint {
    return this.state.groupContext.epoch;
  }

  /** Our own leaf index. */
  get ownLeafIndex(): number {
    return this.state.privatePath.leafIndex;
  }

  /** False once a commit removed us. */
  get active(): boolean {
    return this.state.groupActiveState.kind === 'active';
  }

  members(): Member[] {
    const live = this.live();
    this.roster ??= rosterOf(live);
    return this.roster.slice();
  }

  /** Secret bytes for at-rest storage (holds private keys: encrypt before storing). */
  encode(): Uint8Array {
    return new ByteWriter().u8(GROUP_STATE_VERSION).raw(encodeGroupState(this.live())).bytes();
  }

  /** RFC 9420 §8.5 MLS-Exporter(label, context, length) of the current epoch. */
  async exportSecret(label: string, context: Uint8Array, length: number): Promise<Uint8Array> {
    return mlsExporter(this.live().keySchedule.exporterSecret, label, context, length, await mlsSuite());
  }

  /** The content keys record of the current epoch (for envelopes and the backup archive). */
  async epochKeys(): Promise<EpochKeys> {
    return {
      groupId: this.groupId,
      epoch: this.epoch,
      contentSecret: await this.exportSecret(CONTENT_EXPORTER_LABEL, new Uint8Array(0), 32),
      roster: this.members(),
    };
  }

  /**
   * Adds members by KeyPackage. Each KeyPackage must carry a valid device certificate for the
   * expected user (a swapped or forged package is refused with `member_refused`).
   */
  async add(requests: AddRequest[]): Promise<PendingCommit> {
    this.live();
    this.auth.reset();
    const proposals: Proposal[] = [];
    for (const req of requests) {
      const kp = decodeKeyPackage(req.keyPackage);
      const ok = await this.auth.validateCredential(kp.leafNode.credential, kp.leafNode.signaturePublicKey);
      if (!ok) throw mapError(undefined, this.auth, 'add member');
      const cert = parseDeviceCertificate((kp.leafNode.credential as { identity: Uint8Array }).identity);
      if (cert.userId !== req.userId) {
        throw new CryptoError('member_refused', 'the KeyPackage belongs to another user', {
          refusals: [{ reason: 'wrong_user', expectedUserId: req.userId, userId: cert.userId, deviceId: cert.deviceId }],
        });
      }
      proposals.push({ proposalType: 'add', add: { keyPackage: kp } });
    }
    return this.commit(proposals, 'add member');
  }

  /** Removes every device of the given user ids and/or device ids. */
  async remove(target: { userIds?: string[]; deviceIds?: string[] }): Promise<PendingCommit> {
    const users = new Set(target.userIds ?? []);
    const devices = new Set(target.deviceIds ?? []);
    const leaves = this.members()
      .filter((m) => m.leafIndex !== this.ownLeafIndex && (users.has(m.userId) || devices.has(m.deviceId)))
      .map((m) => m.leafIndex);
    if (leaves.length === 0) throw new CryptoError('unknown_sender', 'no such member to remove');
    return this.commit(leaves.map((removed) => ({ proposalType: 'remove', remove: { removed } }) as Proposal), 'remove member');
  }

  /** An empty commit with a fresh update path: rotates the epoch (forward secrecy, healing). */
  async selfUpdate(): Promise<PendingCommit> {
    return this.commit([], 'self-update');
  }

  private async commit(proposals: Proposal[], what: string): Promise<PendingCommit> {
    const state = this.live();
    const cs = await mlsSuite();
    this.auth.reset();
    let res;
    try {
      res = await createCommit({ state, cipherSuite: cs }, { extraProposals: proposals, ratchetTreeExtension: true });
    } catch (err) {
      throw mapError(err, this.auth, what);
    }
    const commit = encodeMlsMessage(res.commit);
    const welcome = res.welcome ? encodeMlsMessage({ welcome: res.welcome, wireformat: 'mls_welcome', version: 'mls10' }) : undefined;
    const newState = res.newState;
    return new PendingCommit(commit, welcome, () => new MlsGroup(newState, this.device, this.pins, this.auth), res.consumed, this);
  }

  /**
   * Processes a handshake message (commit or proposal) from the group's log, in order. A message
   * for a past epoch (already applied, e.g. our own accepted commit echoed back) is `mls_rejected`
   * with details.reason 'stale_epoch'; one for a future epoch is 'future_epoch' (fetch the gap).
   */
  async process(bytes: Uint8Array): Promise<ProcessResult> {
    const state = this.live();
    const cs = await mlsSuite();
    const msg = decodeMessage(bytes);
    if (msg.wireformat !== 'mls_private_message' && msg.wireformat !== 'mls_public_message') {
      throw new CryptoError('malformed', 'not an MLS handshake message');
    }
    const header = msg.wireformat === 'mls_private_message' ? msg.privateMessage : msg.publicMessage.content;
    if (!equalBytes(header.groupId, state.groupContext.groupId)) throw new CryptoError('wrong_group', 'handshake message for another group');
    if (header.epoch < state.groupContext.epoch) throw new CryptoError('mls_rejected', 'message for a past epoch', { reason: 'stale_epoch', epoch: header.epoch });
    if (header.epoch > state.groupContext.epoch) throw new CryptoError('mls_rejected', 'message for a future epoch', { reason: 'future_epoch', epoch: header.epoch });
    const before = rosterOf(state);
    this.auth.reset();
    let res;
    try {
      res = await processMessage(msg, state, emptyPskIndex, policy, cs);
    } catch (err) {
      throw mapError(err, this.auth, 'process handshake message');
    }
    if (res.kind === 'applicationMessage') {
      res.consumed.forEach(zeroOutUint8Array);
      throw new CryptoError('mls_rejected', 'unexpected MLS application message (content travels in envelopes)');
    }
    if (res.actionTaken === 'reject') throw new CryptoError('mls_rejected', 'commit uses a proposal type our groups do not allow', { reason: 'policy' });
    const keyChanges = [...this.auth.keyChanges];
    this.auth.reset();
    this.spent = true;
    res.consumed.forEach(zeroOutUint8Array);
    const group = new MlsGroup(res.newState, this.device, this.pins, this.auth);
    const isCommit = res.newState.groupContext.epoch !== state.groupContext.epoch;
    const removedSelf = res.newState.groupActiveState.kind === 'removedFromGroup';
    const after = removedSelf ? [] : rosterOf(res.newState);
    const beforeKeys = new Set(before.map(memberKey));
    const afterKeys = new Set(after.map(memberKey));
    return {
      group,
      kind: isCommit ? 'commit' : 'proposal',
      added: after.filter((m) => !beforeKeys.has(memberKey(m))),
      removed: removedSelf ? before : before.filter((m) => !afterKeys.has(memberKey(m))),
      removedSelf,
      keyChanges,
    };
  }
}

const GROUP_STATE_VERSION = 1;

/** Group id bytes for a conversation id (UTF-8; ids are ≤ 64 ASCII characters). */
export function conversationGroupId(conversationId: string): Uint8Array {
  return utf8(conversationId);
}
