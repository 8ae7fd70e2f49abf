/**
 * Typed client for the identity half of /api/mls (src/shared/mls-api.ts): devices, KeyPackages and
 * the two backup blobs. The transport is injected so the same code runs in the browser (same
 * origin, session cookie) and in Node tests against a real server.
 */
import type { BackupKind, BackupVersion, KeyPackageCount, OwnDeviceList, OwnDeviceView, RegisteredDevice } from '../../../src/shared/mls-api.ts';
import { ApiError } from '../state/api.ts';
import { toB64Url } from './b64url.ts';

/** `fetch` minus the origin: the path starts with `/api/`. */
export type Transport = (path: string, init: RequestInit) => Promise<Response>;

/** The browser's transport: same origin, session cookie. */
export const browserTransport: Transport = (path, init) => fetch(path, { ...init, credentials: 'same-origin' });

/** A stored backup blob and the version to name in the next write. */
export interface StoredBackup {
  data: Uint8Array;
  version: number;
}

async function failure(res: Response): Promise<ApiError> {
  let err: { code?: string; message?: string } | undefined;
  try {
    err = ((await res.json()) as { error?: { code?: string; message?: string } }).error;
  } catch {
    err = undefined;
  }
  return new ApiError(res.status, err?.code ?? `HTTP_${res.status}`, err?.message ?? `The server answered ${res.status}.`);
}

export class MlsClient {
  constructor(private readonly transport: Transport = browserTransport) {}

  private async send(method: string, path: string, init: RequestInit = {}): Promise<Response> {
    let res: Response;
    try {
      res = await this.transport(path, { method, ...init });
    } catch {
      throw new ApiError(0, 'NETWORK', 'Cannot reach the server. Check your connection and try again.');
    }
    if (!res.ok) throw await failure(res);
    return res;
  }

  private async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const init: RequestInit = body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
    const res = await this.send(method, path, init);
    return (res.status === 204 ? undefined : await res.json()) as T;
  }

  /** Step one of registration: the server picks the id and binds the device to this session. */
  registerDevice(label: string): Promise<RegisteredDevice> {
    return this.json('POST', '/api/mls/devices', { label });
  }

  /** Step two: the account-key-signed certificate naming that id. */
  setCertificate(deviceId: string, certificate: Uint8Array): Promise<OwnDeviceView> {
    return this.json('PUT', `/api/mls/devices/${encodeURIComponent(deviceId)}/certificate`, { certificate: toB64Url(certificate) });
  }

  ownDevices(): Promise<OwnDeviceList> {
    return this.json('GET', '/api/mls/devices');
  }

  /** Binds an existing device to this (new) session. */
  rebind(deviceId: string, secret: string): Promise<void> {
    return this.json('POST', `/api/mls/devices/${encodeURIComponent(deviceId)}/rebind`, { secret });
  }

  deleteDevice(deviceId: string): Promise<void> {
    return this.json('DELETE', `/api/mls/devices/${encodeURIComponent(deviceId)}`);
  }

  keyPackageCount(): Promise<KeyPackageCount> {
    return this.json('GET', '/api/mls/key-packages');
  }

  uploadKeyPackages(oneTime: Uint8Array[], lastResort?: Uint8Array): Promise<KeyPackageCount> {
    return this.json('POST', '/api/mls/key-packages', {
      keyPackages: oneTime.map(toB64Url),
      ...(lastResort ? { lastResort: toB64Url(lastResort) } : {}),
    });
  }

  /** The blob and its version, or null when none is stored. */
  async getBackup(kind: BackupKind): Promise<StoredBackup | null> {
    let res: Response;
    try {
      res = await this.send('GET', `/api/mls/backup/${kind}`);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return null;
      throw err;
    }
    const version = Number(/^"?(\d+)"?$/.exec(res.headers.get('etag') ?? '')?.[1]);
    if (!Number.isSafeInteger(version) || version < 1) throw new ApiError(res.status, 'BAD_RESPONSE', 'The server sent a backup without a version.');
    return { data: new Uint8Array(await res.arrayBuffer()), version };
  }

  /** Writes a blob over version `expected` (0 when none exists); 409 MLS_VERSION_CONFLICT when stale. */
  async putBackup(kind: BackupKind, data: Uint8Array, expected: number): Promise<number> {
    const res = await this.send('PUT', `/api/mls/backup/${kind}`, {
      headers: { 'content-type': 'application/octet-stream', 'if-match': `"${expected}"` },
      body: data as Uint8Array<ArrayBuffer>,
    });
    return ((await res.json()) as BackupVersion).version;
  }
}
