/**
 * GET /ws: the WebSocket endpoint. Origin, session and per-address connection cap are checked
 * before the upgrade (a refused request gets a plain HTTP error and no WebSocket); then the
 * connection is handed to src/realtime (SocketPeer) synchronously, before any await.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import websocket from '@fastify/websocket';
import type { WebSocket } from 'ws';
import { CloseCode } from '../../shared/protocol.ts';
import { ErrorCodes, type ErrorCode } from '../../shared/errors.ts';
import type { Socket } from 'node:net';
import type { ServerResponse } from 'node:http';
import { SocketPeer, onWebSocketError, slowReaderBytes, type ConnectionContext } from '../../realtime/connection.ts';
import { AddressLimit } from '../../realtime/address-limit.ts';
import { configuredOrigins, isAllowedOrigin } from '../origin.ts';

/** How long a closing socket may take to answer our close frame before it is dropped, ms. */
const CLOSE_TIMEOUT_MS = 5000;

/** Registers @fastify/websocket and GET /ws. Needs `request.auth` set by an earlier onRequest hook. */
export const wsRoutes: FastifyPluginAsync = async (app) => {
  const { config, hub, store, log, now } = app.deps;
  const origins = configuredOrigins(config);
  const addresses = new AddressLimit(config.limits.connectionsPerIp);
  /** Slot keys of upgrades in flight, until SocketPeer takes them over. */
  const pendingSlots = new WeakMap<Socket, string>();
  /** Frees the slot of an upgrade that never became a connection (one shared listener). */
  function releasePendingSlot(this: Socket): void {
    const key = pendingSlots.get(this);
    if (key === undefined) return;
    pendingSlots.delete(this);
    addresses.release(key);
  }
  const ctx: ConnectionContext = {
    hub,
    releaseAddress: (key) => addresses.release(key),
    store,
    limits: config.limits,
    slowReaderBytes: slowReaderBytes(config.limits),
    now,
    event: (code) => log.event(code),
  };

  // A variable, not a literal: @types/ws 8.18 does not list ws 8.23's closeTimeout yet.
  const serverOptions = {
    maxPayload: config.limits.maxFrameBytes,
    // permessage-deflate costs tens of KB of zlib state per connection; bodies are ciphertext anyway.
    perMessageDeflate: false,
    closeTimeout: CLOSE_TIMEOUT_MS,
  };
  await app.register(websocket, {
    options: serverOptions,
    // No logging: a socket error carries nothing we may keep. Drop the connection.
    errorHandler: (_error, socket) => socket.terminate(),
    preClose(done) {
      // Close frames go out now; a client that never answers is dropped after CLOSE_TIMEOUT_MS.
      hub.closeAll(CloseCode.goingAway, 'server shutting down');
      for (const client of this.websocketServer.clients) client.close(CloseCode.goingAway, 'server shutting down');
      this.websocketServer.close(() => done());
    },
  });

  app.addHook('onClose', async () => {
    hub.closeAll(CloseCode.goingAway, 'server shutting down');
  });

  app.get(
    '/ws',
    {
      websocket: true,
      preValidation: async (request: FastifyRequest, reply: FastifyReply) => {
        if (!isAllowedOrigin(request.headers.origin, { protocol: request.protocol, host: request.host }, origins)) {
          return refuse(reply, 'BAD_ORIGIN');
        }
        if (!request.auth) return refuse(reply, 'UNAUTHENTICATED');
        const key = addresses.keyOf(request.ip);
        if (!addresses.acquire(key)) return refuse(reply, 'TOO_MANY_CONNECTIONS');
        pendingSlots.set(request.raw.socket, key);
        request.raw.socket.on('close', releasePendingSlot);
      },
    },
    (socket: WebSocket, request: FastifyRequest) => {
      const raw = request.raw.socket;
      const addressKey = pendingSlots.get(raw);
      const auth = request.auth;
      if (!auth || addressKey === undefined) {
        socket.close(CloseCode.signedOut, 'signed out');
        return;
      }
      // From here the peer owns the slot and frees it on close.
      pendingSlots.delete(raw);
      raw.off('close', releasePendingSlot);
      new SocketPeer(socket, { userId: auth.userId, username: auth.username, sessionHash: auth.sessionHash, addressKey }, ctx);
      releaseUpgradeRequest(socket, request);
    },
  );
};

/**
 * Lets the upgrade's request, reply and fake HTTP response be garbage-collected: left alone, the
 * raw socket keeps the response (and through it both) for the connection's lifetime, which made
 * the heap per idle connection 2.5× raw ws. SocketPeer has already attached its own error listener.
 */
function releaseUpgradeRequest(socket: WebSocket, request: FastifyRequest): void {
  const raw = request.raw.socket as Socket & { _httpMessage?: ServerResponse | null; _peername?: unknown };
  raw._httpMessage?.detachSocket(raw);
  // request.ip cached {address, family, port} on the socket; we keep no address.
  if (raw._peername) raw._peername = undefined;
  // The HTTP server's idle timeout (connectionTimeout) was cleared by ws (setTimeout(0)), but Node
  // keeps the destroyed Timeout and its bound callback on the socket: ~170 bytes per connection.
  const record = raw as unknown as Record<symbol, { _destroyed?: boolean } | null>;
  for (const symbol of Object.getOwnPropertySymbols(raw)) {
    if (symbol.description === 'timeout' && record[symbol]?._destroyed === true) record[symbol] = null;
  }
  // @fastify/websocket's error listener closes over request and reply; ours needs neither.
  for (const listener of socket.listeners('error')) {
    if (listener !== onWebSocketError) socket.off('error', listener as (err: Error) => void);
  }
}

function refuse(reply: FastifyReply, code: ErrorCode): FastifyReply {
  return reply.code(ErrorCodes[code].status).send({ error: { code, message: ErrorCodes[code].message } });
}
