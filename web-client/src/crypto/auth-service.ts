/**
 * Our MLS Authentication Service: ts-mls calls it for every leaf it meets (KeyPackages being
 * added, the tree in a Welcome, commit senders). A credential passes only if it is a BasicCredential
 * whose identity is a device certificate signed by its account key, for exactly the leaf's
 * signature key. Account keys are pinned per user on first sight; a changed one is accepted into
 * the MLS state (every other member accepts it too, so refusing would fork the group) but recorded
 * as pending, which blocks sending until acknowledged.
 */
import type { AuthenticationService, Credential } from 'ts-mls';
import { equalBytes, toHex } from './bytes.ts';
import { CryptoError } from './errors.ts';
import { verifyDeviceCertificate } from './identity.ts';
import { checkPin, type PinStore } from './pins.ts';

export type RefusalReason = 'unsupported_credential' | 'invalid_certificate' | 'key_mismatch';

export interface Refusal {
  reason: RefusalReason;
  /** Hex of the leaf's signature public key. */
  signatureKey: string;
  userId?: string;
  deviceId?: string;
}

export interface KeyChange {
  userId: string;
  previous: Uint8Array;
  next: Uint8Array;
}

/** An AuthenticationService that also remembers why it refused and which keys changed. */
export class DeviceCertAuthService implements AuthenticationService {
  readonly refusals: Refusal[] = [];
  readonly keyChanges: KeyChange[] = [];
  constructor(private readonly pins: PinStore) {}

  async validateCredential(credential: Credential, signaturePublicKey: Uint8Array): Promise<boolean> {
    const signatureKey = toHex(signaturePublicKey);
    if (credential.credentialType !== 'basic') {
      this.refusals.push({ reason: 'unsupported_credential', signatureKey });
      return false;
    }
    let cert;
    try {
      cert = await verifyDeviceCertificate(credential.identity);
    } catch (err) {
      if (!(err instanceof CryptoError)) throw err;
      this.refusals.push({ reason: 'invalid_certificate', signatureKey });
      return false;
    }
    if (!equalBytes(cert.deviceKey, signaturePublicKey)) {
      this.refusals.push({ reason: 'key_mismatch', signatureKey, userId: cert.userId, deviceId: cert.deviceId });
      return false;
    }
    const pin = await checkPin(this.pins, cert.userId, cert.accountKey);
    if (pin.kind === 'key_changed' && !this.keyChanges.some((k) => k.userId === cert.userId && equalBytes(k.next, pin.next))) {
      this.keyChanges.push({ userId: cert.userId, previous: pin.previous, next: pin.next });
    }
    return true;
  }

  /** Forgets what the last operation recorded. */
  reset(): void {
    this.refusals.length = 0;
    this.keyChanges.length = 0;
  }
}
