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
import { SocketPeer, type ConnectionContext } from '../../realtime/connection.ts';
import { AddressLimit } from '../../realtime/address-limit.ts';
import { configuredOrigins, isAllowedOrigin } from '../origin.ts';

/** How long a closing socket may take to answer our close frame before it is dropped, ms. */
const CLOSE_TIMEOUT_MS = 5000;

/** Registers @fastify/websocket and GET /ws. Needs `request.auth` set by an earlier onRequest hook. */
export const wsRoutes: FastifyPluginAsync = async (app) => {
  const { config, hub, store, log, now } = app.deps;
  const origins = configuredOrigins(config);
  const addresses = new AddressLimit(config.limits.connectionsPerIp);
  const ctx: ConnectionContext = {
    hub,
    store,
    limits: config.limits,
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
      hub.closeAll(CloseCode.goingAway, 'server shutting down');
      for (const client of this.websocketServer.clients) client.terminate();
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
        // The raw TCP socket closes exactly once however the upgrade or the WebSocket ends.
        request.raw.socket.once('close', () => addresses.release(key));
      },
    },
    (socket: WebSocket, request: FastifyRequest) => {
      const auth = request.auth;
      if (!auth) {
        socket.close(CloseCode.signedOut, 'signed out');
        return;
      }
      new SocketPeer(socket, { userId: auth.userId, username: auth.username, sessionHash: auth.sessionHash }, ctx);
    },
  );
};

function refuse(reply: FastifyReply, code: ErrorCode): FastifyReply {
  return reply.code(ErrorCodes[code].status).send({ error: { code, message: ErrorCodes[code].message } });
}
