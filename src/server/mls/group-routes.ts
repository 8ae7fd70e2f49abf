/**
 * Groups and the ordered handshake log: create at epoch 0, read the state and the log, and post a
 * commit that is accepted only on the group's current epoch (else 409 with the winning commits).
 * Only current members of the conversation get anywhere; anyone else sees NOT_FOUND, as for a
 * conversation that does not exist.
 */
import type { FastifyPluginAsync } from 'fastify';
import {
  COMMIT_BODY_LIMIT,
  LogQuery,
  MlsLimits,
  PostCommitRequest,
  type CommitAccepted,
  type CommitRejectedDetails,
  DirectoryQuery,
  type GroupDirectory,
  type GroupState,
  type LogEntry,
  type LogPage,
} from '../../shared/mls-api.ts';
import { ChatroomError } from '../../shared/errors.ts';
import { requireAuth } from '../plugins/authenticate.ts';
import { RateLimiter } from '../ratelimit.ts';
import { IdParams } from '../routes/params.ts';
import { accessOrNotFound } from '../routes/views.ts';
import type { MlsRouteOptions } from './options.ts';
import { decodeB64Url } from './bytes.ts';
import { commitFramingProblem } from './framing.ts';
import { requireCertifiedDevice } from './policy.ts';
import { deviceView, groupState, logEntry } from './views.ts';

export const groupRoutes: FastifyPluginAsync<MlsRouteOptions> = async (app, opts) => {
  const { deps } = app;
  const { store, hub } = deps;

  // Every commit is stored for good (the log is what catching-up members replay), so a member
  // posting commits in a loop would grow the database without bound.
  const commits = new RateLimiter({ capacity: MlsLimits.commitBurst, refillMs: MlsLimits.commitRefillMs, now: deps.now });
  // Requests alone would let 1 MiB Welcomes through 120 at a time: bytes have their own budget.
  const commitBytes = new RateLimiter({ capacity: MlsLimits.commitByteBurst, refillMs: MlsLimits.commitRefillMs, now: deps.now });
  // Each page is up to logPageBytes of serialising: a member reading in a loop must not stall everyone.
  const logReads = new RateLimiter({ capacity: MlsLimits.logReadBurst, refillMs: MlsLimits.logReadRefillMs, now: deps.now });
  const page = { maxCount: MlsLimits.logPage, maxBytes: MlsLimits.logPageBytes };
  // One directory read lists every member's devices: as costly as many log pages, so it is limited alike.
  const directoryReads = new RateLimiter({ capacity: MlsLimits.logReadBurst, refillMs: MlsLimits.logReadRefillMs, now: deps.now });

  const tamperLog = (convId: string, entries: LogEntry[]): LogEntry[] => opts.adversary?.log?.(convId, entries) ?? entries;

  const stateOf = async (convId: string): Promise<GroupState> => {
    const group = await store.mls.getGroup(convId);
    if (!group) throw new ChatroomError('MLS_NO_GROUP');
    return groupState(group, await store.mls.pendingRemovals(convId));
  };

  app.get<{ Params: IdParams }>('/api/mls/groups/:id', { schema: { params: IdParams } }, async (request): Promise<GroupState> => {
    const { conversation } = await accessOrNotFound(deps, request.params.id, requireAuth(request).userId);
    return stateOf(conversation.id);
  });

  app.post<{ Params: IdParams }>('/api/mls/groups/:id', { schema: { params: IdParams } }, async (request, reply): Promise<GroupState> => {
    const auth = requireAuth(request);
    const { conversation } = await accessOrNotFound(deps, request.params.id, auth.userId);
    await requireCertifiedDevice(deps, auth);
    const created = await store.mls.createGroup(conversation.id, deps.now());
    if (!created) throw new ChatroomError('MLS_GROUP_EXISTS', undefined, { group: await stateOf(conversation.id) });
    reply.code(201);
    return groupState(created, []);
  });

  app.get<{ Params: IdParams; Querystring: DirectoryQuery }>(
    '/api/mls/groups/:id/directory',
    { schema: { params: IdParams, querystring: DirectoryQuery } },
    async (request): Promise<GroupDirectory> => {
    const auth = requireAuth(request);
    const { conversation } = await accessOrNotFound(deps, request.params.id, auth.userId);
    const taken = directoryReads.take(auth.userId);
    if (!taken.ok) throw new ChatroomError('RATE_LIMITED', undefined, { retryAfterSeconds: taken.retryAfterSeconds });
    const after = request.query.after;
    const ids = (await store.listConversationMemberIds(conversation.id)).filter((id) => after === undefined || id > after).sort();
    const pageIds = ids.slice(0, MlsLimits.directoryPage);
    const members: GroupDirectory['members'] = [];
    for (const id of pageIds) {
      const user = await store.getUser(id);
      if (!user) continue;
      // A device without its certificate is not ready to be added to anything.
      let devices = (await store.mls.listDevices(id)).filter((d) => d.certificate).map(deviceView);
      const tamper = opts.adversary?.devices;
      if (tamper) devices = tamper(id, devices);
      members.push({ id, username: user.username, devices });
    }
    const hasMore = ids.length > pageIds.length;
    return { members, hasMore, ...(hasMore ? { next: pageIds[pageIds.length - 1] } : {}) };
    },
  );

  app.get<{ Params: IdParams; Querystring: LogQuery }>(
    '/api/mls/groups/:id/log',
    { schema: { params: IdParams, querystring: LogQuery } },
    async (request): Promise<LogPage> => {
      const auth = requireAuth(request);
      const { conversation } = await accessOrNotFound(deps, request.params.id, auth.userId);
      const taken = logReads.take(auth.userId);
      if (!taken.ok) throw new ChatroomError('RATE_LIMITED', undefined, { retryAfterSeconds: taken.retryAfterSeconds });
      if (!(await store.mls.getGroup(conversation.id))) throw new ChatroomError('MLS_NO_GROUP');
      const { commits: rows, hasMore } = await store.mls.commitPage(conversation.id, request.query.fromEpoch ?? 0, {
        ...page,
        maxCount: request.query.limit ?? MlsLimits.logPage,
      });
      return { entries: tamperLog(conversation.id, rows.map(logEntry)), hasMore };
    },
  );

  app.post<{ Params: IdParams; Body: PostCommitRequest }>(
    '/api/mls/groups/:id/commits',
    { schema: { params: IdParams, body: PostCommitRequest }, bodyLimit: COMMIT_BODY_LIMIT },
    async (request, reply): Promise<CommitAccepted> => {
      const auth = requireAuth(request);
      const { conversation } = await accessOrNotFound(deps, request.params.id, auth.userId);
      const device = await requireCertifiedDevice(deps, auth);
      const taken = commits.take(auth.userId);
      if (!taken.ok) throw new ChatroomError('RATE_LIMITED', undefined, { retryAfterSeconds: taken.retryAfterSeconds });
      const body = request.body;
      const commitData = decodeB64Url(body.commit, 'body.commit');
      const welcomeData = body.welcome ? decodeB64Url(body.welcome.bytes, 'body.welcome.bytes') : undefined;
      const spent = commitBytes.take(auth.userId, commitData.length + (welcomeData?.length ?? 0));
      if (!spent.ok) throw new ChatroomError('RATE_LIMITED', undefined, { retryAfterSeconds: spent.retryAfterSeconds });
      const problem = commitFramingProblem(commitData, new TextEncoder().encode(conversation.id), body.epoch);
      if (problem) throw new ChatroomError('MLS_BAD_COMMIT', undefined, { reason: problem });
      const memberIds = await store.listConversationMemberIds(conversation.id);
      let welcome: { data: Uint8Array; deviceIds: string[] } | undefined;
      const welcomeUsers = new Map<string, string[]>();
      if (body.welcome) {
        const members = new Set(memberIds);
        for (const deviceId of new Set(body.welcome.devices)) {
          const target = await store.mls.getDevice(deviceId);
          if (!target || !target.certificate || !members.has(target.userId)) throw new ChatroomError('MLS_WELCOME_TARGET');
          welcomeUsers.set(target.userId, [...(welcomeUsers.get(target.userId) ?? []), deviceId]);
        }
        welcome = { data: welcomeData!, deviceIds: [...new Set(body.welcome.devices)] };
      }
      const result = await store.mls.appendCommit({
        convId: conversation.id,
        epoch: body.epoch,
        senderDeviceId: device.id,
        data: commitData,
        ts: deps.now(),
        welcome,
        resolvesRemovals: body.resolvesRemovals,
        maxWelcomesPerDevice: MlsLimits.welcomesPerDevice,
      });
      if (!result.accepted) {
        // Catch-up list: the winner(s) since the posted epoch, as many as fit one page; nothing
        // when the client claims an epoch ahead.
        const caughtUp = body.epoch < result.currentEpoch ? await store.mls.commitPage(conversation.id, body.epoch, page) : { commits: [], hasMore: false };
        const details: CommitRejectedDetails = {
          currentEpoch: result.currentEpoch,
          commits: tamperLog(conversation.id, caughtUp.commits.map(logEntry)),
          hasMore: caughtUp.hasMore,
        };
        throw new ChatroomError('MLS_STALE_EPOCH', undefined, details);
      }
      const { commit } = result;
      hub.notifyUsers(memberIds, { t: 'mls.commit', conv: conversation.id, epoch: commit.epoch + 1, seq: commit.seq });
      for (const [userId, deviceIds] of welcomeUsers) {
        for (const deviceId of deviceIds) hub.notifyUsers([userId], { t: 'mls.welcome', device: deviceId, conv: conversation.id });
      }
      reply.code(201);
      return { seq: commit.seq, epoch: commit.epoch + 1 };
    },
  );
};
