/**
 * This browser's end-to-end identity for one user: the account key, this device and its
 * KeyPackages, and the recovery backup on the server. It ties the crypto layer (../crypto) to the
 * /api/mls routes and keeps every private key in the vault (vault.ts), never in plain storage.
 *
 * - create(): a new account's keys; returns the recovery key text, to be shown once.
 * - check(): after a sign-in or a reload: ready (this browser holds the keys; the device is
 *   rebound to the session and its KeyPackages topped up), restore (the server has a backup but
 *   this browser has no keys), or none (the account predates end-to-end keys).
 * - restore*(): unwrap the account key from the backup, then register this browser as a new device.
 */
import type { OwnDeviceView } from '../../../src/shared/mls-api.ts';
import {
  createAccountKey,
  createDevice,
  CryptoError,
  decodeDeviceIdentity,
  decodeRecoveryKey,
  DEFAULT_ARGON2,
  derivePassphraseKey,
  encodeDeviceIdentity,
  encodeRecoveryKey,
  generateKeyPackages,
  importAccountKey,
  MIN_PASSPHRASE_CHARS,
  newBackupKey,
  passphraseBlobParams,
  unwrapAccountKey,
  unwrapBackupKeyWithPassphrase,
  wrapAccountKey,
  wrapBackupKeyWithPassphrase,
  type AccountKey,
  type Argon2Params,
  type DeviceIdentity,
  type OwnKeyPackage,
} from '../crypto/index.ts';
import { ApiError } from '../state/api.ts';
import { decodeAccountKeyBackup, encodeAccountKeyBackup, encodeArchive } from './backup-format.ts';
import { fromUtf8, packFields, unpackFields, utf8 } from './codec.ts';
import { decodeOwnKeyPackages, encodeOwnKeyPackages, KEY_PACKAGE_TARGET, topUpPlan } from './key-packages.ts';
import type { MlsClient } from './mls-client.ts';
import { Vault, VaultError, type KeyValueStore } from './vault.ts';

/** Argon2id in some worker (the browser's runs in recovery-worker.js); resolves with 32 bytes. */
export type PassphraseKdf = (passphrase: string, salt: Uint8Array, params: Argon2Params) => Promise<Uint8Array>;

export type KeyCheck =
  | { state: 'ready'; deviceId: string }
  /** Sign-up's key setup was interrupted before the user left the recovery key screen: show it again. */
  | { state: 'setup'; recoveryKey: string; deviceId: string }
  | { state: 'restore'; hasPassphrase: boolean }
  | { state: 'none' };

export interface DeviceKeysOptions {
  kv: KeyValueStore;
  client: MlsClient;
  /** Defaults to running Argon2id on this thread (fine in Node; the page passes its Worker). */
  kdf?: PassphraseKdf;
  /** Argon2id cost for new passphrases (tests lower it; restores read it from the blob). */
  argon2?: Argon2Params;
  /** Shown to the owner in "Your devices"; no user agent (it would be stored on the server). */
  label?: () => string;
  now?: () => number;
}

const DEVICE_RECORD_VERSION = 1;

/** The default device label: when it was added, nothing that identifies the browser. */
export function defaultDeviceLabel(now = Date.now()): string {
  return `Web browser, added ${new Date(now).toISOString().slice(0, 10)}`;
}

/**
 * Runs `f` while holding a per-user lock shared by this browser's tabs (Web Locks), so two tabs
 * never register, restore or refill at the same time. Where Web Locks are missing (Node), runs it.
 */
function withLock<T>(userId: string, f: () => Promise<T>): Promise<T> {
  const locks = (globalThis.navigator as (Navigator & { locks?: LockManager }) | undefined)?.locks;
  return locks ? (locks.request(`chatroom-keys:${userId}`, f) as Promise<T>) : f();
}

/** This browser's device is no longer on the account's device list. */
class DeviceRemoved extends Error {
  override readonly name = 'DeviceRemoved';
}

function wipe(bytes: Uint8Array): void {
  bytes.fill(0);
}

function isApiError(err: unknown, code: string): boolean {
  return err instanceof ApiError && err.code === code;
}

export class DeviceKeys {
  private readonly kdf: PassphraseKdf;
  private readonly argon2: Argon2Params;
  private readonly label: () => string;
  private readonly now: () => number;

  constructor(private readonly opts: DeviceKeysOptions) {
    this.kdf = opts.kdf ?? ((p, salt, params) => derivePassphraseKey(p, salt, params));
    this.argon2 = opts.argon2 ?? DEFAULT_ARGON2;
    this.now = opts.now ?? Date.now;
    this.label = opts.label ?? (() => defaultDeviceLabel(this.now()));
  }

  private get client(): MlsClient {
    return this.opts.client;
  }

  /**
   * Keys for a brand-new account: account key and backup key into the vault, the backup blobs to
   * the server, then this device. Returns the recovery key text (the caller shows it, then calls
   * `finishSetup`) and the new device's id. Interrupted anywhere, `check` resumes it.
   */
  create(userId: string): Promise<{ recoveryKey: string; deviceId: string }> {
    return withLock(userId, () => this.createLocked(userId));
  }

  private async createLocked(userId: string): Promise<{ recoveryKey: string; deviceId: string }> {
    if (await this.client.getBackup('account-key')) {
      throw new CryptoError('malformed', 'This account already has end-to-end keys: sign in with its recovery key instead.');
    }
    const account = await createAccountKey();
    const bk = newBackupKey();
    const vault = await Vault.open(this.opts.kv, userId);
    try {
      const wrappedAccountKey = await wrapAccountKey(bk, account.privateKeyPkcs8);
      await vault.putKey('account-key', account.privateKey, account.publicKey);
      await vault.write('backup-key', bk);
      await vault.write('setup-pending', encodeAccountKeyBackup({ wrappedAccountKey }));
      return await this.resumeSetup(vault, { privateKey: account.privateKey, publicKey: account.publicKey }, true);
    } finally {
      wipe(account.privateKeyPkcs8);
      wipe(bk);
    }
  }

  /** Uploads what sign-up has not uploaded yet, and gives the recovery key to show again. */
  private async resumeSetup(vault: Vault, account: AccountKey, fresh = false): Promise<{ recoveryKey: string; deviceId: string }> {
    const pending = await vault.read('setup-pending');
    const bk = await vault.read('backup-key');
    if (!pending || !bk) throw new CryptoError('malformed', 'No key setup is pending in this browser.');
    try {
      if (fresh || !(await this.client.getBackup('account-key'))) await this.client.putBackup('account-key', pending, 0);
      // On a resume, read first (during setup the archive is at most the empty one, so it is cheap).
      if (fresh || !(await this.client.getBackup('archive'))) await this.putInitialArchive();
      const device = await this.boundDevice(vault, account);
      return { recoveryKey: await encodeRecoveryKey(bk), deviceId: device.deviceId };
    } finally {
      wipe(bk);
    }
  }

  /** The user has seen the recovery key: the setup is complete. */
  async finishSetup(userId: string): Promise<void> {
    await (await Vault.open(this.opts.kv, userId)).delete('setup-pending');
  }

  /** An empty archive, unless one is there already (another device wrote first). */
  private async putInitialArchive(): Promise<void> {
    try {
      await this.client.putBackup('archive', encodeArchive([]), 0);
    } catch (err) {
      if (!isApiError(err, 'MLS_VERSION_CONFLICT')) throw err;
    }
  }

  /** Where this browser stands for `userId`; when it holds the keys, also rebinds its device. */
  check(userId: string): Promise<KeyCheck> {
    return withLock(userId, () => this.checkLocked(userId));
  }

  private async checkLocked(userId: string): Promise<KeyCheck> {
    if (await Vault.exists(this.opts.kv, userId)) {
      try {
        const local = await this.checkLocal(userId);
        if (local) return local;
      } catch (err) {
        if (!(err instanceof VaultError) && !(err instanceof DeviceRemoved)) throw err;
        // Unreadable here (the wrapping key was lost or the records damaged), or this device was
        // removed: forget what is kept here and unlock from the server backup like a new browser.
        await (await Vault.open(this.opts.kv, userId)).destroy();
      }
    }
    const backup = await this.client.getBackup('account-key');
    if (!backup) return { state: 'none' };
    return { state: 'restore', hasPassphrase: decodeAccountKeyBackup(backup.data).passphraseWrappedBackupKey !== undefined };
  }

  /** `check` for a browser that has a vault for `userId`; null when it holds no account key. */
  private async checkLocal(userId: string): Promise<KeyCheck | null> {
    const vault = await Vault.open(this.opts.kv, userId);
    const stored = await vault.getKey('account-key');
    if (!stored) return null;
    const account: AccountKey = { privateKey: stored.key, publicKey: stored.publicKey };
    if (await vault.read('setup-pending')) return { state: 'setup', ...(await this.resumeSetup(vault, account)) };
    const device = await this.boundDevice(vault, account);
    return { state: 'ready', deviceId: device.deviceId };
  }

  /** This browser's device, bound to the calling session (rebinding or re-registering as needed). */
  private async boundDevice(vault: Vault, account: AccountKey): Promise<DeviceIdentity> {
    const record = await vault.read('device');
    if (!record) return this.registerDevice(vault, account);
    const [identityBytes, secret] = unpackFields(record, DEVICE_RECORD_VERSION, 'device record');
    const identity = await decodeDeviceIdentity(identityBytes);
    const listed = (await this.client.ownDevices()).devices.find((d) => d.id === identity.deviceId);
    // Removed from another device (perhaps because this browser was lost): never re-register
    // silently with the keys kept here; only the recovery key brings this browser back.
    if (!listed) throw new DeviceRemoved();
    if (!listed.current) await this.client.rebind(identity.deviceId, fromUtf8(secret));
    return identity;
  }

  /** Registers this browser as a device of the account, certifies it and uploads KeyPackages. */
  private async registerDevice(vault: Vault, account: AccountKey): Promise<DeviceIdentity> {
    let registered;
    try {
      registered = await this.client.registerDevice(this.label());
    } catch (err) {
      if (!isApiError(err, 'MLS_DEVICE_EXISTS')) throw err;
      // This session holds a device whose keys this browser no longer has (storage was cleared):
      // it is useless, so revoke it and register afresh.
      const stale = (await this.client.ownDevices()).devices.find((d) => d.current);
      if (stale) await this.client.deleteDevice(stale.id);
      registered = await this.client.registerDevice(this.label());
    }
    const identity = await createDevice(account, vault.userId, registered.device.id, this.now());
    await vault.write('device', packFields(DEVICE_RECORD_VERSION, [encodeDeviceIdentity(identity), utf8(registered.rebindSecret)]));
    await this.client.setCertificate(identity.deviceId, identity.certificate);
    await this.uploadKeyPackages(vault, identity, KEY_PACKAGE_TARGET, true);
    return identity;
  }

  /**
   * Refills the server's stock of this device's KeyPackages when it runs low (call after `check`
   * said ready, e.g. on app start); returns how many went up.
   */
  topUp(userId: string): Promise<number> {
    return withLock(userId, async () => {
      const vault = await Vault.open(this.opts.kv, userId);
      const record = await vault.read('device');
      if (!record) throw new CryptoError('malformed', 'This browser has no device for this account.');
      return this.topUpDevice(vault, await decodeDeviceIdentity(unpackFields(record, DEVICE_RECORD_VERSION, 'device record')[0]));
    });
  }

  private async topUpDevice(vault: Vault, device: DeviceIdentity): Promise<number> {
    const plan = topUpPlan(await this.client.keyPackageCount());
    if (plan.oneTime === 0 && !plan.lastResort) return 0;
    await this.uploadKeyPackages(vault, device, plan.oneTime, plan.lastResort);
    return plan.oneTime + (plan.lastResort ? 1 : 0);
  }

  /** Private halves go into the vault before the public halves go to the server. */
  private async uploadKeyPackages(vault: Vault, device: DeviceIdentity, oneTime: number, lastResort: boolean): Promise<void> {
    const fresh = await generateKeyPackages(device, oneTime, { lastResort });
    const kept = await vault.read('key-packages');
    await vault.write('key-packages', encodeOwnKeyPackages([...(kept ? decodeOwnKeyPackages(kept) : []), ...fresh]));
    await this.client.uploadKeyPackages(
      fresh.filter((k) => !k.lastResort).map((k) => k.keyPackage),
      fresh.find((k) => k.lastResort)?.keyPackage,
    );
  }

  /** Restores from the backup with the recovery key text; `bad_recovery_key` / `wrong_recovery_key` on a bad one. */
  async restoreWithRecoveryKey(userId: string, text: string): Promise<string> {
    const bk = await decodeRecoveryKey(text);
    return withLock(userId, async () => this.restoreWithBackupKey(userId, bk, (await this.fetchBackup()).wrappedAccountKey));
  }

  /** Restores with the passphrase (Argon2id: seconds); `wrong_recovery_key` when it does not open the backup. */
  async restoreWithPassphrase(userId: string, passphrase: string): Promise<string> {
    const backup = await this.fetchBackup();
    const blob = backup.passphraseWrappedBackupKey;
    if (!blob) throw new CryptoError('wrong_recovery_key', 'No passphrase was set for this account: use the recovery key.');
    const { params, salt } = passphraseBlobParams(blob);
    const derivedKey = await this.kdf(passphrase, salt, params);
    const bk = await unwrapBackupKeyWithPassphrase(blob, passphrase, { derivedKey });
    return withLock(userId, () => this.restoreWithBackupKey(userId, bk, backup.wrappedAccountKey));
  }

  private async fetchBackup() {
    const stored = await this.client.getBackup('account-key');
    if (!stored) throw new CryptoError('malformed', 'This account has no key backup on the server.');
    return decodeAccountKeyBackup(stored.data);
  }

  private async restoreWithBackupKey(userId: string, bk: Uint8Array, wrappedAccountKey: Uint8Array): Promise<string> {
    try {
      const pkcs8 = await unwrapAccountKey(bk, wrappedAccountKey);
      const account = await importAccountKey(pkcs8);
      wipe(pkcs8);
      const vault = await Vault.open(this.opts.kv, userId);
      for (const stale of ['device', 'key-packages', 'setup-pending'] as const) await vault.delete(stale);
      await vault.putKey('account-key', account.privateKey, account.publicKey);
      await vault.write('backup-key', bk);
      return (await this.registerDevice(vault, account)).deviceId;
    } finally {
      wipe(bk);
    }
  }

  /**
   * Adds (or replaces) the passphrase wrap of the backup key in the server's backup blob.
   * `weak_passphrase` below MIN_PASSPHRASE_CHARS, checked before the slow KDF runs.
   */
  async setPassphrase(userId: string, passphrase: string): Promise<void> {
    if ([...passphrase.normalize('NFKC')].length < MIN_PASSPHRASE_CHARS) {
      throw new CryptoError('weak_passphrase', `A passphrase needs at least ${MIN_PASSPHRASE_CHARS} characters.`);
    }
    const vault = await Vault.open(this.opts.kv, userId);
    const bk = await vault.read('backup-key');
    if (!bk) throw new CryptoError('malformed', 'This browser does not hold the backup key.');
    try {
      const salt = crypto.getRandomValues(new Uint8Array(16));
      const derivedKey = await this.kdf(passphrase, salt, this.argon2);
      const passphraseWrappedBackupKey = await wrapBackupKeyWithPassphrase(bk, passphrase, { params: this.argon2, salt, derivedKey });
      for (let attempt = 0; ; attempt++) {
        const stored = await this.client.getBackup('account-key');
        if (!stored) throw new CryptoError('malformed', 'This account has no key backup on the server.');
        const current = decodeAccountKeyBackup(stored.data);
        try {
          await this.client.putBackup('account-key', encodeAccountKeyBackup({ ...current, passphraseWrappedBackupKey }), stored.version);
          return;
        } catch (err) {
          if (!isApiError(err, 'MLS_VERSION_CONFLICT') || attempt >= 2) throw err;
        }
      }
    } finally {
      wipe(bk);
    }
  }

  /** Removes another of the caller's devices; it can come back only with the recovery key. */
  async removeDevice(deviceId: string): Promise<void> {
    await this.client.deleteDevice(deviceId);
  }

  /**
   * What the conversation engine (groups/) needs once `check` said ready: this device's identity
   * and the user's vault. Throws when this browser has no device for the account.
   */
  async engineKeys(userId: string): Promise<{ device: DeviceIdentity; vault: Vault }> {
    const vault = await Vault.open(this.opts.kv, userId);
    const record = await vault.read('device');
    if (!record) throw new CryptoError('malformed', 'This browser has no device for this account.');
    return { device: await decodeDeviceIdentity(unpackFields(record, DEVICE_RECORD_VERSION, 'device record')[0]), vault };
  }

  /** The private halves of this device's KeyPackages (to join from a Welcome). */
  async keyPackageSecrets(userId: string): Promise<OwnKeyPackage[]> {
    const kept = await (await Vault.open(this.opts.kv, userId)).read('key-packages');
    return kept ? decodeOwnKeyPackages(kept) : [];
  }

  /** Forgets a one-time KeyPackage a Welcome consumed (a last-resort one stays: it may be handed out again). */
  consumeKeyPackage(userId: string, ref: Uint8Array): Promise<void> {
    return withLock(userId, async () => {
      const vault = await Vault.open(this.opts.kv, userId);
      const kept = await vault.read('key-packages');
      if (!kept) return;
      const list = decodeOwnKeyPackages(kept);
      const same = (a: Uint8Array) => a.length === ref.length && a.every((b, i) => b === ref[i]);
      const left = list.filter((k) => k.lastResort || !same(k.ref));
      if (left.length !== list.length) await vault.write('key-packages', encodeOwnKeyPackages(left));
    });
  }

  /** The caller's devices as the server lists them. */
  async devices(): Promise<OwnDeviceView[]> {
    return (await this.client.ownDevices()).devices;
  }
}
