/** Typed fetch client for the HTTP API in src/shared/api.ts (same origin, session cookie). */
import type {
  AuthParams,
  ConversationList,
  ConversationSummary,
  CreatedInvite,
  HistoryPage,
  InstanceInfo,
  InviteInfo,
  Member,
  RegisterRequest,
  ServerSummary,
  Session,
} from '../../../src/shared/api.ts';

/** An API error with the server's stable `code` and its human message. */
export class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

/** A same-origin JSON request (session cookie); a network failure is ApiError NETWORK, any answer is returned. */
export async function fetchJson(method: string, path: string, body?: unknown): Promise<Response> {
  try {
    return await fetch(path, {
      method,
      credentials: 'same-origin',
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'NETWORK', 'Cannot reach the server. Check your connection and try again.');
  }
}

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetchJson(method, path, body);
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let data: unknown;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = undefined;
  }
  if (!res.ok) {
    const err = (data as { error?: { code?: string; message?: string } } | undefined)?.error;
    throw new ApiError(res.status, err?.code ?? 'HTTP_' + res.status, err?.message ?? `The server answered ${res.status}.`);
  }
  return data as T;
}

const enc = encodeURIComponent;

/** One method per route; names follow the API. */
export const api = {
  instance: () => request<InstanceInfo & { needsSetup: boolean }>('GET', '/api/instance'),
  me: () => request<Session>('GET', '/api/me'),
  authParams: (username: string) => request<AuthParams>('POST', '/api/auth/params', { username }),
  register: (req: RegisterRequest) => request<Session>('POST', '/api/auth/register', req),
  login: (username: string, loginKey: string) => request<Session>('POST', '/api/auth/login', { username, loginKey }),
  logout: () => request<void>('POST', '/api/auth/logout'),
  logoutOthers: () => request<void>('POST', '/api/auth/logout-others'),
  inviteInfo: (token: string) => request<InviteInfo>('GET', `/api/invites/${enc(token)}`),
  acceptInvite: (token: string) => request<ServerSummary>('POST', `/api/invites/${enc(token)}/accept`),
  createInstanceInvite: (serverId?: string) =>
    request<CreatedInvite>('POST', '/api/invites', serverId ? { serverId } : {}),
  createServerInvite: (serverId: string) => request<CreatedInvite>('POST', `/api/servers/${enc(serverId)}/invites`),
  conversations: () => request<ConversationList>('GET', '/api/conversations'),
  createServer: (name: string) => request<ServerSummary>('POST', '/api/servers', { name }),
  createChannel: (serverId: string, name: string) =>
    request<ConversationSummary>('POST', `/api/servers/${enc(serverId)}/channels`, { name }),
  createGroup: (name: string, members: string[]) =>
    request<ConversationSummary>('POST', '/api/groups', { name, members }),
  createDm: (username: string) => request<ConversationSummary>('POST', '/api/dms', { username }),
  history: (conv: string, before?: number, limit = 50) => {
    const q = new URLSearchParams({ limit: String(limit) });
    if (before !== undefined) q.set('before', String(before));
    return request<HistoryPage>('GET', `/api/conversations/${enc(conv)}/messages?${q}`);
  },
  addGroupMember: (groupId: string, username: string) =>
    request<void>('POST', `/api/groups/${enc(groupId)}/members`, { username }),
  leaveGroup: (groupId: string) => request<void>('POST', `/api/groups/${enc(groupId)}/leave`),
  leaveServer: (serverId: string) => request<void>('POST', `/api/servers/${enc(serverId)}/leave`),
  kick: (serverId: string, userId: string) => request<void>('POST', `/api/servers/${enc(serverId)}/kick`, { userId }),
  ban: (serverId: string, userId: string) => request<void>('POST', `/api/servers/${enc(serverId)}/ban`, { userId }),
  members: (conv: string) => request<{ members: Member[] }>('GET', `/api/conversations/${enc(conv)}/members`),
};
