/**
 * Where the signed-in user's end-to-end keys stand in this browser, for the store to pick a screen:
 * the recovery key right after sign-up, the restore screen on a browser without keys, or the chat.
 * The work is in ../e2ee (DeviceKeys); this file only wires it to the browser (IndexedDB, the KDF
 * Worker, same-origin fetch) and turns errors into sentences.
 */
import { assertCryptoSupport, isCryptoError } from '../crypto/index.ts';
import { DeviceKeys, type KeyCheck } from '../e2ee/device-keys.ts';
import { openE2eeCodec, type E2eeCodec } from '../e2ee/groups/index.ts';
import { openIdbStore } from '../e2ee/idb-store.ts';
import { workerKdf } from '../e2ee/kdf-worker.ts';
import { MlsClient } from '../e2ee/mls-client.ts';
import { VaultError } from '../e2ee/vault.ts';
import type { ServerFrame } from '../../../src/shared/protocol.ts';
import { SendRefused, type BodyCodec, type DecodedBody, type MessageContent } from './body-codec.ts';

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
  /** Keys cannot be used here; `reason` says why. Messages can be neither read nor sent here. */
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

/** The end-to-end codec of this browser's device for `userId` (call once `check` said ready). */
export async function openCodec(userId: string): Promise<E2eeCodec> {
  return openE2eeCodec({ userId, deviceKeys: await deviceKeys() });
}

/**
 * Why this browser cannot send or read with `keys`, and what the user can do about it; undefined
 * once the keys are ready. The composer and the refusals show it.
 */
export function noKeysReason(keys: KeyState): string | undefined {
  switch (keys.name) {
    case 'ready':
      return undefined;
    case 'none':
      return 'Your account has no end-to-end keys yet, so this browser can neither send nor read messages. Set up keys to start (you will get a recovery key to save).';
    case 'restore':
      return 'This browser does not hold your end-to-end keys yet. Unlock them with your recovery key or backup passphrase.';
    case 'unavailable':
      return `Messages cannot be sent or read in this browser: ${keys.reason}`;
    default:
      return 'Your end-to-end keys are still being checked.';
  }
}

/**
 * The body codec of a browser without end-to-end keys: it sends nothing (the server must never
 * receive plaintext) and opens nothing, each time with a sentence saying why.
 */
export class NoKeysCodec extends EventTarget implements BodyCodec {
  readonly encrypted = false;

  constructor(private readonly reason: string) {
    super();
  }

  encode(_conv: string, _content: MessageContent): Promise<string> {
    return Promise.reject(new SendRefused('keys_unavailable', this.reason));
  }

  decode(): Promise<DecodedBody> {
    return Promise.resolve({ ok: false, code: 'keys_unavailable', reason: this.reason, retryable: true });
  }

  onFrame(_f: ServerFrame): void {}
  onConnected(): void {}
  close(): void {}
}
