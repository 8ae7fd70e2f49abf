/**
 * Where the signed-in user's end-to-end keys stand in this browser, for the store to pick a screen:
 * the recovery key right after sign-up, the restore screen on a browser without keys, or the chat.
 * The work is in ../e2ee (DeviceKeys); this file only wires it to the browser (IndexedDB, the KDF
 * Worker, same-origin fetch) and turns errors into sentences.
 */
import { assertCryptoSupport, isCryptoError } from '../crypto/index.ts';
import { DeviceKeys, type KeyCheck } from '../e2ee/device-keys.ts';
import { openIdbStore } from '../e2ee/idb-store.ts';
import { workerKdf } from '../e2ee/kdf-worker.ts';
import { MlsClient } from '../e2ee/mls-client.ts';
import { VaultError } from '../e2ee/vault.ts';

export type KeyState =
  /** Not known yet (checking with the server). */
  | { name: 'checking' }
  /** This browser holds the keys and its device is bound to the session. */
  | { name: 'ready'; deviceId: string }
  /** Keys were just made: show the recovery key once, then `ready`. */
  | { name: 'new-key'; recoveryKey: string; deviceId: string }
  /** The account has keys, this browser does not: ask for the recovery key (or passphrase). */
  | { name: 'restore'; hasPassphrase: boolean }
  /** The account has no keys yet (made before end-to-end keys, or by another client). */
  | { name: 'none' }
  /** Keys cannot be used here; `reason` says why. The chat still works. */
  | { name: 'unavailable'; reason: string };

/** The screen state for what DeviceKeys.check found. */
export function keyStateOf(check: KeyCheck): KeyState {
  switch (check.state) {
    case 'ready':
      return { name: 'ready', deviceId: check.deviceId };
    case 'setup':
      return { name: 'new-key', recoveryKey: check.recoveryKey, deviceId: check.deviceId };
    case 'restore':
      return { name: 'restore', hasPassphrase: check.hasPassphrase };
    case 'none':
      return { name: 'none' };
  }
}

/** The sentence to show for an error from the key layer. */
export function keyErrorMessage(err: unknown): string {
  if (isCryptoError(err)) {
    switch (err.code) {
      case 'bad_recovery_key':
        return `That is not a valid recovery key: ${err.message}. Check it against the one you saved (letters and digits in 14 groups of 4).`;
      case 'wrong_recovery_key':
        return 'That does not unlock this account’s keys. Check that it is the recovery key (or passphrase) you saved for this account, and try again.';
      case 'weak_passphrase':
        return err.message;
      case 'unsupported_runtime':
        return `This browser cannot hold end-to-end keys: ${err.message}`;
      default:
        return err.message;
    }
  }
  if (err instanceof VaultError) return `The keys stored in this browser cannot be read (${err.message}).`;
  return err instanceof Error ? err.message : String(err);
}

let keys: Promise<DeviceKeys> | undefined;

/** The browser's DeviceKeys, opened once (IndexedDB + the KDF Worker). */
export function deviceKeys(): Promise<DeviceKeys> {
  keys ??= (async () => {
    await assertCryptoSupport();
    return new DeviceKeys({ kv: await openIdbStore(), client: new MlsClient(), kdf: workerKdf });
  })();
  keys.catch(() => (keys = undefined));
  return keys;
}
