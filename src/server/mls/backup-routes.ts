/**
 * Wrapped key storage for recovery: per user, an opaque wrapped account key and an opaque wrapped
 * epoch-key archive, each versioned. A write names the version it read (If-Match) and fails with
 * 409 when another device wrote first, so two devices never silently overwrite each other. A
 * delete names the version too, and leaves a tombstone so version numbers only ever go up.
 */
import type { FastifyPluginAsync } from 'fastify';
import { BackupParams, MlsLimits, type BackupKind, type BackupVersion } from '../../shared/mls-api.ts';
import { ChatroomError } from '../../shared/errors.ts';
import { requireAuth } from '../plugins/authenticate.ts';

const MAX_BYTES: Record<BackupKind, number> = { 'account-key': MlsLimits.accountKeyBytes, archive: MlsLimits.archiveBytes };

/** `If-Match: "3"` (quotes optional) → 3; absent → null; anything else → BAD_REQUEST. */
function expectedVersion(header: string | string[] | undefined): number | null {
  if (header === undefined) return null;
  const m = /^\s*"?(\d{1,15})"?\s*$/.exec(Array.isArray(header) ? header.join(',') : header);
  if (!m) throw new ChatroomError('BAD_REQUEST', 'If-Match: send the version number you read, e.g. "3" ("0" when there is none).');
  return Number(m[1]);
}

export const backupRoutes: FastifyPluginAsync = async (app) => {
  const { deps } = app;
  const { store } = deps;

  // Only in this plugin's scope: the rest of the API stays JSON-only.
  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  app.get<{ Params: { kind: BackupKind } }>('/api/mls/backup/:kind', { schema: { params: BackupParams } }, async (request, reply) => {
    const auth = requireAuth(request);
    const backup = await store.mls.getBackup(auth.userId, request.params.kind);
    if (!backup) throw new ChatroomError('NOT_FOUND', 'Nothing is stored.');
    return reply
      .type('application/octet-stream')
      .header('ETag', `"${backup.version}"`)
      .header('Cache-Control', 'no-store')
      .send(Buffer.from(backup.data.buffer, backup.data.byteOffset, backup.data.byteLength));
  });

  app.put<{ Params: { kind: BackupKind }; Body: Buffer }>(
    '/api/mls/backup/:kind',
    { schema: { params: BackupParams }, bodyLimit: MlsLimits.archiveBytes },
    async (request, reply): Promise<BackupVersion> => {
      const auth = requireAuth(request);
      const { kind } = request.params;
      if (!Buffer.isBuffer(request.body)) throw new ChatroomError('BAD_REQUEST', 'Send the blob as application/octet-stream.');
      if (request.body.length === 0) throw new ChatroomError('BAD_REQUEST', 'The blob is empty.');
      if (request.body.length > MAX_BYTES[kind]) throw new ChatroomError('BODY_TOO_LARGE', `The ${kind} blob is larger than ${MAX_BYTES[kind]} bytes.`);
      const expected = expectedVersion(request.headers['if-match']);
      if (expected === null) throw new ChatroomError('MLS_VERSION_REQUIRED');
      const result = await store.mls.putBackup({ userId: auth.userId, kind, expectedVersion: expected, data: new Uint8Array(request.body), now: deps.now() });
      if (!result.ok) throw new ChatroomError('MLS_VERSION_CONFLICT', undefined, { currentVersion: result.currentVersion });
      reply.header('ETag', `"${result.version}"`);
      return { version: result.version };
    },
  );

  app.delete<{ Params: { kind: BackupKind } }>('/api/mls/backup/:kind', { schema: { params: BackupParams } }, async (request, reply) => {
    const auth = requireAuth(request);
    const expected = expectedVersion(request.headers['if-match']);
    if (expected === null) throw new ChatroomError('MLS_VERSION_REQUIRED', 'Send If-Match with the version you read to delete it.');
    const result = await store.mls.deleteBackup({ userId: auth.userId, kind: request.params.kind, expectedVersion: expected, now: deps.now() });
    if (!result.ok && 'missing' in result) throw new ChatroomError('NOT_FOUND', 'Nothing is stored.');
    if (!result.ok) throw new ChatroomError('MLS_VERSION_CONFLICT', undefined, { currentVersion: result.currentVersion });
    return reply.code(204).send();
  });
};
