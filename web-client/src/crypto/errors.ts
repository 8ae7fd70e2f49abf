/**
 * Typed failures of the client crypto layer. Callers branch on `code` (stable), never on text;
 * the UI maps each code to an explanation so nothing is "unable to decrypt" without a reason.
 */
export type CryptoErrorCode =
  | 'unsupported_runtime' // Web Crypto lacks Ed25519/X25519 or crypto.subtle (not a secure context)
  | 'malformed' // bytes that do not parse as the expected structure
  | 'unsupported_version' // a format version this client does not know
  | 'bad_signature' // a signature that does not verify
  | 'invalid_certificate' // a device certificate that is missing, unparsable or wrongly signed
  | 'key_mismatch' // certificate's device key is not the MLS leaf's signature key
  | 'wrong_group' // an envelope or message for another group
  | 'wrong_channel' // an envelope for another channel of the same group
  | 'unknown_epoch' // no key material for that epoch (not held, or not yet caught up)
  | 'unknown_sender' // no member with that device id in the epoch's roster
  | 'decrypt_failed' // AEAD authentication failed
  | 'duplicate' // a message id already accepted (replay)
  | 'send_blocked' // a member's account key changed and the user has not acknowledged it
  | 'member_refused' // the MLS layer refused a member (bad credential or signature)
  | 'mls_rejected' // the MLS layer refused a commit, proposal or Welcome
  | 'no_matching_key_package' // a Welcome not addressed to any of our KeyPackages
  | 'wrong_recovery_key' // unwrap failed: wrong recovery key or passphrase, or tampered blob
  | 'bad_recovery_key' // a recovery key string with a wrong checksum or length
  | 'weak_passphrase' // a backup passphrase below the minimum length
  | 'too_large'; // plaintext above the largest padding bucket

/** An error with a stable code and optional structured details (never secrets). */
export class CryptoError extends Error {
  readonly code: CryptoErrorCode;
  readonly details: Record<string, unknown>;
  constructor(code: CryptoErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'CryptoError';
    this.code = code;
    this.details = details;
  }
}

/** True when `err` is a CryptoError, optionally with the given code. */
export function isCryptoError(err: unknown, code?: CryptoErrorCode): err is CryptoError {
  return err instanceof CryptoError && (code === undefined || err.code === code);
}
