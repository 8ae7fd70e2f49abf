/** Devices: register (bound to the session), list one's own or a contact's, rebind after sign-in, revoke. */
import { createHash, randomBytes } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import {
  MlsLimits,
  RebindDeviceRequest,
  RegisterDeviceRequest,
  SetCertificateRequest,
  type DeviceList,
  type OwnDeviceList,
  type OwnDeviceView,
  type RegisteredDevice,
} from '../../shared/mls-api.ts';
import { ChatroomError } from '../../shared/errors.ts';
import { CloseCode } from '../../shared/protocol.ts';
import { requireAuth } from '../plugins/authenticate.ts';
import { RateLimiter } from '../ratelimit.ts';
import { IdParams } from '../routes/params.ts';
import type { MlsRouteOptions } from './options.ts';
import { decodeB64Url } from './bytes.ts';
import { announceArrival, announceRemovals } from './membership.ts';
import { assertMayContact, requireDevice, visibleConversationIds } from './policy.ts';
import { deviceView, ownDeviceView } from './views.ts';

/** SHA-256 (hex) of a rebind secret: the only form the store keeps. */
function secretHash(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export const deviceRoutes: FastifyPluginAsync<MlsRouteOptions> = async (app, opts) => {
  const { deps } = app;
  const { store } = deps;
  // Each change notifies every member of every conversation of the user (and makes them re-check).
  const changes = new RateLimiter({ capacity: MlsLimits.deviceChangeBurst, refillMs: MlsLimits.deviceChangeRefillMs, now: deps.now });
  const takeChange = (userId: string): void => {
    const taken = changes.take(userId);
    if (!taken.ok) throw new ChatroomError('RATE_LIMITED', undefined, { retryAfterSeconds: taken.retryAfterSeconds });
  };

  app.post<{ Body: RegisterDeviceRequest }>('/api/mls/devices', { schema: { body: RegisterDeviceRequest } }, async (request, reply): Promise<RegisteredDevice> => {
    const auth = requireAuth(request);
    takeChange(auth.userId);
    const rebindSecret = randomBytes(32).toString('base64url');
    const device = await store.mls.registerDevice({
      userId: auth.userId,
      sessionHash: auth.sessionHash,
      label: request.body.label,
      certificate: request.body.certificate === undefined ? null : decodeB64Url(request.body.certificate, 'body.certificate'),
      rebindHash: secretHash(rebindSecret),
      maxDevices: MlsLimits.devicesPerUser,
      now: deps.now(),
    });
    if (device.certificate) await announceArrival(deps, await visibleConversationIds(deps, auth.userId), auth.userId);
    reply.code(201);
    return { device: ownDeviceView(device, auth.sessionHash), rebindSecret };
  });

  app.put<{ Params: IdParams; Body: SetCertificateRequest }>(
    '/api/mls/devices/:id/certificate',
    { schema: { params: IdParams, body: SetCertificateRequest } },
    async (request): Promise<OwnDeviceView> => {
      const auth = requireAuth(request);
      const device = await requireDevice(deps, auth);
      // Only the device itself: another session of the same user must not re-key it.
      if (device.id !== request.params.id) throw new ChatroomError('NOT_FOUND', 'No such device.');
      takeChange(auth.userId);
      const certificate = decodeB64Url(request.body.certificate, 'body.certificate');
      if (!(await store.mls.setCertificate({ deviceId: device.id, userId: auth.userId, certificate }))) throw new ChatroomError('NOT_FOUND', 'No such device.');
      // A newly certified device can be added now: tell the members of every conversation of this user.
      await announceArrival(deps, await visibleConversationIds(deps, auth.userId), auth.userId);
      return ownDeviceView({ ...device, certificate }, auth.sessionHash);
    },
  );

  app.get('/api/mls/devices', async (request): Promise<OwnDeviceList> => {
    const auth = requireAuth(request);
    const devices = await store.mls.listDevices(auth.userId);
    return { devices: devices.map((d) => ownDeviceView(d, auth.sessionHash)) };
  });

  app.get<{ Params: IdParams }>('/api/mls/users/:id/devices', { schema: { params: IdParams } }, async (request): Promise<DeviceList> => {
    const auth = requireAuth(request);
    await assertMayContact(deps, auth.userId, request.params.id);
    // A device without its certificate is not ready to be added to anything.
    let devices = (await store.mls.listDevices(request.params.id)).filter((d) => d.certificate).map(deviceView);
    const tamper = opts.adversary?.devices;
    if (tamper) devices = tamper(request.params.id, devices);
    return { devices };
  });

  app.post<{ Params: IdParams; Body: RebindDeviceRequest }>(
    '/api/mls/devices/:id/rebind',
    { schema: { params: IdParams, body: RebindDeviceRequest } },
    async (request, reply) => {
      const auth = requireAuth(request);
      const ok = await store.mls.rebindDevice({
        deviceId: request.params.id,
        userId: auth.userId,
        rebindHash: secretHash(request.body.secret),
        sessionHash: auth.sessionHash,
      });
      if (!ok) throw new ChatroomError('NOT_FOUND', 'No such device, or the secret does not match.');
      return reply.code(204).send();
    },
  );

  app.delete<{ Params: IdParams }>('/api/mls/devices/:id', { schema: { params: IdParams } }, async (request, reply) => {
    const auth = requireAuth(request);
    takeChange(auth.userId);
    const convIds = await visibleConversationIds(deps, auth.userId);
    const target = (await store.mls.listDevices(auth.userId)).find((d) => d.id === request.params.id);
    const recorded = await store.mls.deleteDevice({ deviceId: request.params.id, userId: auth.userId, convIds, now: deps.now() });
    if (recorded === null) throw new ChatroomError('NOT_FOUND', 'No such device.');
    // A removed device is signed out too: its session would otherwise keep reading (and, with a
    // new device, re-keying) as if nothing happened. Removing this session's own device keeps the session.
    const bound = target?.sessionHash;
    if (bound && bound !== auth.sessionHash) {
      await store.deleteSession(bound);
      deps.hub.closeSessions([bound], CloseCode.signedOut, 'device removed');
    }
    await announceRemovals(deps, recorded, auth.userId);
    return reply.code(204).send();
  });
};
