/**
 * Server-as-adversary mode, for tests only: transforms applied to what the delivery service hands
 * out, so a test can make the server lie and show that the clients notice. It is reachable only
 * through AppDeps.mlsAdversary (buildApp's caller in a test): no config key, environment variable
 * or route turns it on. Each hook is read per request, so a test may change it between steps.
 */
import type { DeviceView, ClaimedKeyPackage, LogEntry, WelcomeView } from '../../shared/mls-api.ts';

export interface MlsAdversary {
  /** Rewrites a user's device list (GET /api/mls/users/:id/devices), e.g. to inject a device. */
  devices?(userId: string, devices: DeviceView[]): DeviceView[];
  /** Rewrites claimed KeyPackages (POST …/key-packages/claim), e.g. to swap one for another's. */
  keyPackages?(userId: string, packages: ClaimedKeyPackage[]): ClaimedKeyPackage[];
  /** Rewrites handshake log entries (GET …/log and a 409's catch-up list): replay, reorder, drop. */
  log?(convId: string, entries: LogEntry[]): LogEntry[];
  /** Rewrites a device's waiting Welcomes (GET /api/mls/welcomes), e.g. to drop them. */
  welcomes?(deviceId: string, welcomes: WelcomeView[]): WelcomeView[];
}

/** Adds `fake` to every listing of `userId`'s devices (a device without a valid certificate). */
export function injectDevice(userId: string, fake: DeviceView): MlsAdversary['devices'] {
  return (listed, devices) => (listed === userId ? [...devices, fake] : devices);
}

/** Hands out `replacement` (base64url KeyPackage bytes) instead of each package claimed for `userId`. */
export function swapKeyPackages(userId: string, replacement: string): MlsAdversary['keyPackages'] {
  return (target, packages) => (target === userId ? packages.map((p) => ({ ...p, keyPackage: replacement })) : packages);
}

/** Serves every log page twice over: the entries, then the same entries again (a replay). */
export const replayLog: NonNullable<MlsAdversary['log']> = (_conv, entries) => [...entries, ...entries];

/** Serves each log page in reverse order. */
export const reorderLog: NonNullable<MlsAdversary['log']> = (_conv, entries) => [...entries].reverse();

/** Never delivers a Welcome. */
export const dropWelcomes: NonNullable<MlsAdversary['welcomes']> = () => [];
