// Fixed keys for the envelope golden vectors (test/vectors/envelope-v1.json) and property tests.
import { fromHex } from '../../web-client/src/crypto/bytes.ts';
import type { DeviceIdentity } from '../../web-client/src/crypto/identity.ts';
import type { EpochKeys, Member } from '../../web-client/src/crypto/mls.ts';
import { ed25519PublicKey, ed25519SeedToPkcs8 } from '../../web-client/src/crypto/primitives.ts';

export async function fixedMember(seedByte: number, userId: string, deviceId: string, leafIndex: number): Promise<{ device: DeviceIdentity; member: Member }> {
  const pkcs8 = ed25519SeedToPkcs8(new Uint8Array(32).fill(seedByte));
  const pub = await ed25519PublicKey(pkcs8);
  return {
    device: { userId, deviceId, signaturePublicKey: pub, signaturePrivateKey: pkcs8, certificate: new Uint8Array(0) },
    member: { leafIndex, userId, deviceId, accountKey: new Uint8Array(32).fill(seedByte + 0x40), signatureKey: pub },
  };
}

export async function fixedEpoch(groupIdText = 'conv-golden', epoch = 5n, secretHex = '01'.repeat(32)) {
  const alice = await fixedMember(0x02, 'u-alice', 'dev-alice', 0);
  const bob = await fixedMember(0x03, 'u-bob', 'dev-bob', 1);
  const keys: EpochKeys = { groupId: new TextEncoder().encode(groupIdText), epoch, contentSecret: fromHex(secretHex), roster: [alice.member, bob.member] };
  return { alice, bob, keys };
}
