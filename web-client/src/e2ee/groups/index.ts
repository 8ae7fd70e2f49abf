/**
 * The conversation engine: E2eeCodec (a BodyCodec) and the factory the store calls once
 * DeviceKeys.check() said `ready`.
 */
import type { RotationPolicy } from '../../crypto/index.ts';
import type { DeviceKeys } from '../device-keys.ts';
import { browserTransport, MlsClient, type Transport } from '../mls-client.ts';
import { E2eeCodec, type ListablePinStore } from './e2ee-codec.ts';

export { E2eeCodec, type E2eeCodecOptions, type KeyChangeNotice, type ListablePinStore, type SafetyInputs } from './e2ee-codec.ts';
export { VaultPinStore } from './vault-pins.ts';
export { WARNINGS_EVENT, type E2eeWarning, type WarningCode } from './warnings.ts';
export type { KeyPackageSource } from './context.ts';

export interface OpenCodecOptions {
  userId: string;
  deviceKeys: DeviceKeys;
  /** Defaults to same-origin fetch with the session cookie. */
  transport?: Transport;
  pins?: ListablePinStore;
  now?: () => number;
  rotation?: RotationPolicy;
  reconcileStaggerMs?: number;
  reconcileEveryMs?: number;
  abandonedGroupMs?: number;
  packageRetryMs?: number;
}

/** The codec for the signed-in user's device; call after `deviceKeys.check(userId)` answered `ready`. */
export async function openE2eeCodec(o: OpenCodecOptions): Promise<E2eeCodec> {
  const { device, vault } = await o.deviceKeys.engineKeys(o.userId);
  return new E2eeCodec({
    client: new MlsClient(o.transport ?? browserTransport),
    userId: o.userId,
    device,
    vault,
    keyPackages: {
      secrets: () => o.deviceKeys.keyPackageSecrets(o.userId),
      consume: (ref) => o.deviceKeys.consumeKeyPackage(o.userId, ref),
      topUp: () => o.deviceKeys.topUp(o.userId),
    },
    ...(o.pins ? { pins: o.pins } : {}),
    ...(o.now ? { now: o.now } : {}),
    ...(o.rotation ? { rotation: o.rotation } : {}),
    ...(o.reconcileStaggerMs !== undefined ? { reconcileStaggerMs: o.reconcileStaggerMs } : {}),
    ...(o.reconcileEveryMs !== undefined ? { reconcileEveryMs: o.reconcileEveryMs } : {}),
    ...(o.abandonedGroupMs !== undefined ? { abandonedGroupMs: o.abandonedGroupMs } : {}),
    ...(o.packageRetryMs !== undefined ? { packageRetryMs: o.packageRetryMs } : {}),
  });
}
