/** Account routes: salt lookup, sign-up, sign-in, sign-out, the current user and instance info. */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { AuthParamsRequest, LoginRequest, RegisterRequest, type InstanceInfo, type Session } from '../../shared/api.ts';
import type { User } from '../../store/types.ts';
import { CloseCode } from '../../shared/protocol.ts';
import { authParams, registerAccount, verifyLogin } from '../auth/accounts.ts';
import { clearSessionCookie, cookieTokenHash, startSession } from '../auth/sessions.ts';
import { requireAuth } from '../plugins/authenticate.ts';
import { enforce, type AuthLimiters } from './auth-limits.ts';

export const authRoutes: FastifyPluginAsync<{ limiters: AuthLimiters }> = async (app, { limiters }) => {
  const { deps } = app;
  const instanceInfo = (): InstanceInfo => ({ name: deps.config.name, registration: deps.config.registration });
  const session = (user: Pick<User, 'id' | 'username' | 'role'>): Session => ({
    user: { id: user.id, username: user.username, role: user.role },
    instance: instanceInfo(),
  });
  /** New session on this reply; the one the request came with is deleted and its sockets closed. */
  const signIn = async (request: FastifyRequest, reply: FastifyReply, userId: string): Promise<void> => {
    const previous = cookieTokenHash(request);
    await startSession(deps.store, request, reply, userId, deps.now());
    if (previous) deps.hub.closeSessions([previous], CloseCode.signedOut, 'signed out');
  };

  app.post<{ Body: { username: string } }>('/api/auth/params', { schema: { body: AuthParamsRequest } }, async (request) => {
    enforce(limiters.params, request);
    return authParams(deps, request.body.username);
  });

  app.post<{ Body: RegisterRequest }>('/api/auth/register', { schema: { body: RegisterRequest } }, async (request, reply) => {
    enforce(limiters.register, request);
    const user = await registerAccount(deps, request.body);
    await signIn(request, reply, user.id);
    return reply.code(201).send(session(user));
  });

  app.post<{ Body: LoginRequest }>('/api/auth/login', { schema: { body: LoginRequest } }, async (request, reply) => {
    enforce(limiters.login, request);
    const user = await verifyLogin(deps, request.body.username, request.body.loginKey);
    await signIn(request, reply, user.id);
    return session(user);
  });

  app.post('/api/auth/logout', async (request, reply) => {
    const sessionHash = cookieTokenHash(request);
    if (sessionHash) {
      await deps.store.deleteSession(sessionHash);
      deps.hub.closeSessions([sessionHash], CloseCode.signedOut, 'signed out');
    }
    clearSessionCookie(reply);
    return reply.code(204).send();
  });

  app.post('/api/auth/logout-others', async (request, reply) => {
    const auth = requireAuth(request);
    const closed = await deps.store.deleteOtherSessions(auth.userId, auth.sessionHash);
    deps.hub.closeSessions(closed, CloseCode.signedOut, 'signed out elsewhere');
    return reply.code(204).send();
  });

  app.get('/api/me', async (request) => {
    const auth = requireAuth(request);
    return session({ id: auth.userId, username: auth.username, role: auth.role });
  });

  app.get('/api/instance', async () => ({ ...instanceInfo(), needsSetup: (await deps.store.countUsers()) === 0 }));
};
