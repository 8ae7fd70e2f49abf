/** Welcomes: a device fetches the ones addressed to it and acknowledges each, which deletes it. */
import type { FastifyPluginAsync } from 'fastify';
import type { WelcomeList } from '../../shared/mls-api.ts';
import { ChatroomError } from '../../shared/errors.ts';
import { requireAuth } from '../plugins/authenticate.ts';
import { IdParams } from '../routes/params.ts';
import type { MlsRouteOptions } from './options.ts';
import { requireDevice } from './policy.ts';
import { welcomeView } from './views.ts';

export const welcomeRoutes: FastifyPluginAsync<MlsRouteOptions> = async (app, opts) => {
  const { deps } = app;
  const { store } = deps;

  app.get('/api/mls/welcomes', async (request): Promise<WelcomeList> => {
    const auth = requireAuth(request);
    const device = await requireDevice(deps, auth);
    const waiting = [];
    for (const w of await store.mls.welcomesFor(device.id)) {
      // Removed from the conversation before pickup: joining now would let them read until the
      // removal commit, so the Welcome is withdrawn instead.
      if (await store.getAccess(w.convId, auth.userId)) waiting.push(w);
      else await store.mls.ackWelcome(device.id, w.id);
    }
    let welcomes = waiting.map(welcomeView);
    const tamper = opts.adversary?.welcomes;
    if (tamper) welcomes = tamper(device.id, welcomes);
    return { welcomes };
  });

  app.delete<{ Params: IdParams }>('/api/mls/welcomes/:id', { schema: { params: IdParams } }, async (request, reply) => {
    const device = await requireDevice(deps, requireAuth(request));
    if (!(await store.mls.ackWelcome(device.id, request.params.id))) throw new ChatroomError('NOT_FOUND', 'No such Welcome for this device.');
    return reply.code(204).send();
  });
};
