/**
 * Typed client for /api/mls (src/shared/mls-api.ts). The identity half: devices, KeyPackages and
 * the two backup blobs. The group half: groups, the handshake log, commits (409 details kept),
 * KeyPackage claims, other users' devices, Welcomes, and a conversation's member list. The
 * transport is injected so the same code runs in the browser (same origin, session cookie) and in
 * Node tests against a real server.
 */
import type { Member } from '../../../src/shared/api.ts';
import type {
  BackupKind,
  BackupVersion,
  ClaimedKeyPackages,
  CommitAccepted,
  CommitRejectedDetails,
  DeviceList,
  GroupDirectory,
  GroupState,
  KeyPackageCount,
  LogPage,
  OwnDeviceList,
  OwnDeviceView,
  PostCommitRequest,
  RegisteredDevice,
  WelcomeList,
} from '../../../src/shared/mls-api.ts';
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

/** An ApiError that also keeps the error object's extra fields (e.g. a 409's `commits`). */
export class MlsApiError extends ApiError {
  constructor(
    status: number,
    code: string,
    message: string,
    /** Every field of the server's `error` object besides code and message. */
    readonly details: Record<string, unknown> = {},
  ) {
    super(status, code, message);
  }
}

async function failure(res: Response): Promise<ApiError> {
  let err: ({ code?: string; message?: string } & Record<string, unknown>) | undefined;
  try {
    err = ((await res.json()) as { error?: { code?: string; message?: string } & Record<string, unknown> }).error;
  } catch {
    err = undefined;
  }
  const { code, message, ...details } = err ?? {};
  return new MlsApiError(res.status, code ?? `HTTP_${res.status}`, message ?? `The server answered ${res.status}.`, details);
}

/** The 409 MLS_STALE_EPOCH details, or undefined when `err` is anything else. */
export function staleEpochDetails(err: unknown): CommitRejectedDetails | undefined {
  if (!(err instanceof MlsApiError) || err.code !== 'MLS_STALE_EPOCH') return undefined;
  const d = err.details as Partial<CommitRejectedDetails>;
  if (typeof d.currentEpoch !== 'number' || !Array.isArray(d.commits)) return undefined;
  return { currentEpoch: d.currentEpoch, commits: d.commits, hasMore: d.hasMore === true };
}

const enc = encodeURIComponent;

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

  // ------------------------------------------------------------ the group half

  /** GET /api/mls/groups/:id, or null before anyone created the group (404 MLS_NO_GROUP). */
  async group(conv: string): Promise<GroupState | null> {
    try {
      return await this.json<GroupState>('GET', `/api/mls/groups/${enc(conv)}`);
    } catch (err) {
      if (err instanceof ApiError && err.code === 'MLS_NO_GROUP') return null;
      throw err;
    }
  }

  /** POST /api/mls/groups/:id: the group at epoch 0, or null when another member was first (409 MLS_GROUP_EXISTS). */
  async createGroup(conv: string): Promise<GroupState | null> {
    try {
      return await this.json<GroupState>('POST', `/api/mls/groups/${enc(conv)}`);
    } catch (err) {
      if (err instanceof ApiError && err.code === 'MLS_GROUP_EXISTS') return null;
      throw err;
    }
  }

  /** One page of the handshake log: commits built on epoch ≥ `fromEpoch`. */
  logPage(conv: string, fromEpoch: number, limit?: number): Promise<LogPage> {
    const q = new URLSearchParams({ fromEpoch: String(fromEpoch), ...(limit ? { limit: String(limit) } : {}) });
    return this.json('GET', `/api/mls/groups/${enc(conv)}/log?${q}`);
  }

  /** Posts a commit built on `body.epoch`. A lost race throws MlsApiError MLS_STALE_EPOCH (see staleEpochDetails). */
  postCommit(conv: string, body: PostCommitRequest): Promise<CommitAccepted> {
    return this.json('POST', `/api/mls/groups/${enc(conv)}/commits`, body);
  }

  /** Claims one KeyPackage per device of `userId` (or of the listed devices). */
  claimKeyPackages(userId: string, devices?: string[]): Promise<ClaimedKeyPackages> {
    return this.json('POST', `/api/mls/users/${enc(userId)}/key-packages/claim`, devices ? { devices } : {});
  }

  /** Another user's (or our own user's) certified devices as the server lists them: verify each certificate. */
  userDevices(userId: string): Promise<DeviceList> {
    return this.json('GET', `/api/mls/users/${enc(userId)}/devices`);
  }

  /** One page of the Welcomes waiting for this session's device. */
  welcomes(after?: string): Promise<WelcomeList> {
    return this.json('GET', `/api/mls/welcomes${after ? `?after=${enc(after)}` : ''}`);
  }

  /** Acknowledges a processed Welcome; an unknown one (already gone) counts as done. */
  async deleteWelcome(id: string): Promise<void> {
    try {
      await this.json('DELETE', `/api/mls/welcomes/${enc(id)}`);
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 404)) throw err;
    }
  }

  /** One page of GET /api/mls/groups/:id/directory: members with their certified devices (verify each certificate). */
  directory(conv: string, after?: string): Promise<GroupDirectory> {
    return this.json('GET', `/api/mls/groups/${enc(conv)}/directory${after ? `?after=${enc(after)}` : ''}`);
  }

  /** GET /api/conversations/:id/members: who the server says belongs to the conversation. */
  async conversationMembers(conv: string): Promise<Member[]> {
    return (await this.json<{ members: Member[] }>('GET', `/api/conversations/${enc(conv)}/members`)).members;
  }
}
