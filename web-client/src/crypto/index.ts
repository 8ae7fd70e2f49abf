/**
 * The client's end-to-end encryption, the only code that sees plaintext. Everything exported here
 * is bytes or our own types: no ts-mls type leaks out, so replacing the MLS library touches only
 * this folder. See docs/E2EE.md for formats, labels and the threat model.
 */
export { CryptoError, isCryptoError, type CryptoErrorCode } from './errors.ts';
export { assertCryptoSupport, SUITE_NAME } from './provider.ts';
export {
  createAccountKey,
  createDevice,
  decodeDeviceIdentity,
  encodeDeviceIdentity,
  importAccountKey,
  parseDeviceCertificate,
  verifyDeviceCertificate,
  type AccountKey,
  type DeviceCertificate,
  type DeviceIdentity,
  type NewAccountKey,
} from './identity.ts';
export { acknowledgeKeyChange, assertSendAllowed, checkPin, markVerified, MemoryPinStore, type PinCheck, type PinRecord, type PinStore } from './pins.ts';
export type { KeyChange, Refusal, RefusalReason } from './auth-service.ts';
export {
  conversationGroupId,
  generateKeyPackages,
  MlsGroup,
  PendingCommit,
  type AddRequest,
  type EpochKeys,
  type Member,
  type OwnKeyPackage,
  type ProcessResult,
} from './mls.ts';
export { decodeEpochKeys, encodeEpochKeys } from './epoch-keys.ts';
export { openEnvelope, readEnvelopeHeader, ReplayWindow, sealEnvelope, type EnvelopeHeader, type OpenedMessage, type SealedEnvelope } from './envelope.ts';
export type { AttachmentRef, MessageContent, MessageKind } from './content.ts';
export { MAX_PADDED_DATA, PADDING_BUCKETS } from './padding.ts';
export { DEFAULT_ROTATION_POLICY, shouldRotateEpoch, type EpochUsage, type RotationDecision, type RotationPolicy } from './rotation.ts';
export {
  DEFAULT_ARGON2,
  decodeRecoveryKey,
  derivePassphraseKey,
  encodeRecoveryKey,
  MIN_PASSPHRASE_CHARS,
  newBackupKey,
  passphraseBlobParams,
  unwrapAccountKey,
  unwrapArchiveRecord,
  unwrapBackupKeyWithPassphrase,
  wrapAccountKey,
  wrapArchiveRecord,
  wrapBackupKeyWithPassphrase,
  type ArchiveRecord,
  type Argon2Params,
} from './recovery.ts';
export { compareSafetyQr, safetyNumber, safetyQrPayload, type SafetyIdentity, type SafetyNumber } from './safety-number.ts';
