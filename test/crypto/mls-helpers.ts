// Shared helpers for the in-memory multi-member MLS tests (no server): users, devices, a handshake log.
import { createAccountKey, createDevice, type DeviceIdentity, type NewAccountKey } from '../../web-client/src/crypto/identity.ts';
import { MemoryPinStore } from '../../web-client/src/crypto/pins.ts';
import { generateKeyPackages, MlsGroup, type OwnKeyPackage } from '../../web-client/src/crypto/mls.ts';

export interface Client {
  userId: string;
  account: NewAccountKey;
  device: DeviceIdentity;
  pins: MemoryPinStore;
  keyPackages: OwnKeyPackage[];
  group?: MlsGroup;
}

export async function makeClient(userId: string, deviceId = `${userId}-dev`): Promise<Client> {
  const account = await createAccountKey();
  const device = await createDevice(account, userId, deviceId, 1_700_000_000_000);
  const keyPackages = await generateKeyPackages(device, 2, { lastResort: true });
  return { userId, account, device, pins: new MemoryPinStore(), keyPackages };
}

/** A fresh one-time KeyPackage (what the directory would hand out). */
export async function freshKeyPackage(c: Client): Promise<Uint8Array> {
  const [kp] = await generateKeyPackages(c.device, 1);
  c.keyPackages.push(kp);
  return kp.keyPackage;
}

export function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}
