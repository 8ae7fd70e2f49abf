/**
 * Welcomes: a device pages through the ones addressed to it and acknowledges each, which deletes
 * it. Pages are bounded by count and bytes (a Welcome may be 1 MiB), and a Welcome nobody picks
 * up within MlsLimits.welcomeTtlMs is deleted: at start, hourly, and before every listing.
 */
import type { FastifyPluginAsync } from 'fastify';
import { MlsLimits, WelcomeQuery, type WelcomeList } from '../../shared/mls-api.ts';
import { ChatroomError } from '../../shared/errors.ts';
import { requireAuth } from '../plugins/authenticate.ts';
import { IdParams } from '../routes/params.ts';
import type { MlsRouteOptions } from './options.ts';
import { requireDevice } from './policy.ts';
import { welcomeView } from './views.ts';

/** How often expired Welcomes are swept besides on each listing, ms. */
const SWEEP_INTERVAL_MS = 60 * 60 * 1000;

export const welcomeRoutes: FastifyPluginAsync<MlsRouteOptions> = async (app, opts) => {
  const { deps } = app;
  const { store } = deps;

  const sweep = () => store.mls.expireWelcomes(deps.now() - MlsLimits.welcomeTtlMs);
  await sweep();
  const timer = setInterval(() => void sweep().catch(() => undefined), SWEEP_INTERVAL_MS);
  timer.unref();
  app.addHook('onClose', async () => clearInterval(timer));

  app.get<{ Querystring: WelcomeQuery }>('/api/mls/welcomes', { schema: { querystring: WelcomeQuery } }, async (request): Promise<WelcomeList> => {
    const auth = requireAuth(request);
    const device = await requireDevice(deps, auth);
    await sweep();
    const page = await store.mls.welcomePage(device.id, {
      after: Number(request.query.after ?? 0),
      maxCount: MlsLimits.welcomePage,
      maxBytes: MlsLimits.welcomePageBytes,
    });
    const waiting = [];
    for (const w of page.welcomes) {
      // Removed from the conversation before pickup: joining now would let them read until the
      // removal commit, so the Welcome is withdrawn instead.
      if (await store.getAccess(w.convId, auth.userId)) waiting.push(w);
      else await store.mls.ackWelcome(device.id, w.id);
    }
    let welcomes = waiting.map(welcomeView);
    const tamper = opts.adversary?.welcomes;
    if (tamper) welcomes = tamper(device.id, welcomes);
    return { welcomes, hasMore: page.hasMore, ...(page.next !== null ? { next: String(page.next) } : {}) };
  });

  app.delete<{ Params: IdParams }>('/api/mls/welcomes/:id', { schema: { params: IdParams } }, async (request, reply) => {
    const device = await requireDevice(deps, requireAuth(request));
    if (!(await store.mls.ackWelcome(device.id, request.params.id))) throw new ChatroomError('NOT_FOUND', 'No such Welcome for this device.');
    return reply.code(204).send();
  });
};
