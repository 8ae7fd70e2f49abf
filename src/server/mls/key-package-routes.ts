/** The KeyPackage directory: a device uploads and counts its packages; contacts claim one per device. */
import type { FastifyPluginAsync } from 'fastify';
import {
  ClaimKeyPackagesRequest,
  KEY_PACKAGE_BODY_LIMIT,
  MlsLimits,
  UploadKeyPackagesRequest,
  type ClaimedKeyPackages,
  type KeyPackageCount,
} from '../../shared/mls-api.ts';
import { ChatroomError } from '../../shared/errors.ts';
import { requireAuth } from '../plugins/authenticate.ts';
import { RateLimiter } from '../ratelimit.ts';
import { IdParams } from '../routes/params.ts';
import type { MlsRouteOptions } from './options.ts';
import { decodeB64Url, encodeB64Url } from './bytes.ts';
import { announceArrival } from './membership.ts';
import { assertMayContact, requireCertifiedDevice, requireDevice, visibleConversationIds } from './policy.ts';

export const keyPackageRoutes: FastifyPluginAsync<MlsRouteOptions> = async (app, opts) => {
  const { deps } = app;
  const { store } = deps;
  // Keyed by the requester's user id (hashed like an address by the limiter): exhausting someone's
  // one-time packages costs the attacker one token per package.
  const claims = new RateLimiter({ capacity: MlsLimits.claimBurst, refillMs: MlsLimits.claimRefillMs, now: deps.now });
  // Keyed by the target user: many requesters (or accounts) together drain at most this many of
  // someone's one-time packages per window; past it they get the last-resort one, so adding the
  // target keeps working (with a reused init key) while the one-time stock survives.
  const targetClaims = new RateLimiter({ capacity: MlsLimits.claimTargetBurst, refillMs: MlsLimits.claimRefillMs, now: deps.now });

  app.post<{ Body: UploadKeyPackagesRequest }>(
    '/api/mls/key-packages',
    { schema: { body: UploadKeyPackagesRequest }, bodyLimit: KEY_PACKAGE_BODY_LIMIT },
    async (request): Promise<KeyPackageCount> => {
      const auth = requireAuth(request);
      const device = await requireCertifiedDevice(deps, auth);
      const { keyPackages, lastResort } = request.body;
      const before = await store.mls.countKeyPackages(device.id);
      const after = await store.mls.addKeyPackages({
        deviceId: device.id,
        oneTime: keyPackages.map((kp, i) => decodeB64Url(kp, `body.keyPackages.${i}`)),
        lastResort: lastResort === undefined ? null : decodeB64Url(lastResort, 'body.lastResort'),
        maxOneTime: MlsLimits.keyPackagesPerDevice,
        now: deps.now(),
      });
      // A device with nothing to claim could not be added yet: now it can, so its conversations'
      // members are told again (the certificate's announcement came before these packages).
      if (before.oneTime === 0 && !before.hasLastResort && (after.oneTime > 0 || after.hasLastResort)) {
        await announceArrival(deps, await visibleConversationIds(deps, auth.userId), auth.userId);
      }
      return after;
    },
  );

  app.get('/api/mls/key-packages', async (request): Promise<KeyPackageCount> => {
    const device = await requireDevice(deps, requireAuth(request));
    return store.mls.countKeyPackages(device.id);
  });

  app.post<{ Params: IdParams; Body: ClaimKeyPackagesRequest }>(
    '/api/mls/users/:id/key-packages/claim',
    { schema: { params: IdParams, body: ClaimKeyPackagesRequest } },
    async (request): Promise<ClaimedKeyPackages> => {
      const auth = requireAuth(request);
      const targetId = request.params.id;
      await assertMayContact(deps, auth.userId, targetId);
      const own = await store.mls.deviceOfSession(auth.sessionHash);
      const wanted = request.body.devices ? new Set(request.body.devices) : null;
      const deviceIds = (await store.mls.listDevices(targetId))
        .filter((d) => d.certificate && d.id !== own?.id && (!wanted || wanted.has(d.id)))
        .map((d) => d.id);
      const taken = claims.take(auth.userId, Math.max(1, deviceIds.length));
      if (!taken.ok) throw new ChatroomError('RATE_LIMITED', undefined, { retryAfterSeconds: taken.retryAfterSeconds });
      const lastResortOnly = deviceIds.length > 0 && !targetClaims.take(targetId, deviceIds.length).ok;
      const claimed = await store.mls.claimKeyPackages(deviceIds, { lastResortOnly });
      let packages = claimed.map((p) => ({ device: p.deviceId, keyPackage: encodeB64Url(p.data), lastResort: p.lastResort }));
      const tamper = opts.adversary?.keyPackages;
      if (tamper) packages = tamper(targetId, packages);
      const served = new Set(claimed.map((p) => p.deviceId));
      return { packages, exhausted: deviceIds.filter((id) => !served.has(id)) };
    },
  );
};
