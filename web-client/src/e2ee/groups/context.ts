/** What every conversation's engine shares: the device, the server, the stores and the codec's callbacks. */
import type { DeviceIdentity, KeyChange, OwnKeyPackage, PinStore, RotationPolicy } from '../../crypto/index.ts';
import type { MlsClient } from '../mls-client.ts';
import type { EpochArchive } from './archive.ts';
import type { GroupStore } from './group-store.ts';
import type { E2eeWarning } from './warnings.ts';

/** This device's KeyPackage secrets (DeviceKeys keeps them in the vault). */
export interface KeyPackageSource {
  secrets(): Promise<OwnKeyPackage[]>;
  /** Forgets a one-time package a Welcome used. */
  consume(ref: Uint8Array): Promise<void>;
  /** Refills the server's stock after joins used some (optional). */
  topUp?(): Promise<unknown>;
}

export interface EngineContext {
  client: MlsClient;
  userId: string;
  device: DeviceIdentity;
  pins: PinStore;
  store: GroupStore;
  archive: EpochArchive;
  keyPackages: KeyPackageSource;
  rotation: RotationPolicy;
  now(): number;
  warn(w: Omit<E2eeWarning, 'at'>): void;
  keyChanged(changes: KeyChange[]): void;
  /** Leaves were taken out of a group: sends held back for that may go now. */
  rosterChanged(): void;
}
