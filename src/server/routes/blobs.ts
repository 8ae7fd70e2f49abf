/**
 * Attachments (docs/ATTACHMENTS.md): create an upload, send its ciphertext in resumable pieces,
 * download it (Range supported). The server sees opaque bytes only: no name, type or dimensions
 * are sent or stored. A blob the caller may not see answers exactly like a missing one.
 */
import { open } from 'node:fs/promises';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { BlobLimits, CreateBlobRequest, UploadQuery, type BlobUpload } from '../../shared/api.ts';
import { ChatroomError } from '../../shared/errors.ts';
import type { BlobRecord } from '../../store/blob-types.ts';
import { requireAuth } from '../plugins/authenticate.ts';
import { parseRange } from '../blobs/range.ts';
import { BlobService } from '../blobs/service.ts';
import { UploadAborted, writePiece } from '../blobs/upload.ts';
import { IdParams } from './params.ts';
import { accessOrNotFound } from './views.ts';

/** What a blob response is: bytes to save, never to render or run, whatever they look like. */
const BLOB_HEADERS = {
  'Content-Type': 'application/octet-stream',
  'Content-Disposition': 'attachment',
  'Content-Security-Policy': "default-src 'none'; sandbox; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Accept-Ranges': 'bytes',
  'Cache-Control': 'no-store',
} as const;

export const blobRoutes: FastifyPluginAsync = async (app) => {
  const { deps } = app;
  const { store, config } = deps;
  const limits = config.limits;
  const service = new BlobService(store, config.dataPath, deps.now, deps.log);
  app.addHook('onReady', () => service.start());
  app.addHook('onClose', () => service.stop());

  const limited = (limiter: BlobService['createLimiter'], userId: string): void => {
    const r = limiter.take(userId);
    if (!r.ok) throw new ChatroomError('RATE_LIMITED', 'Too many uploads: wait a moment and try again.', { retryAfterSeconds: r.retryAfterSeconds });
  };

  /** The caller's own upload, or BLOB_NOT_FOUND (identical for missing and someone else's). */
  const ownBlob = async (request: FastifyRequest<{ Params: IdParams }>): Promise<BlobRecord> => {
    const auth = requireAuth(request);
    const blob = await store.blobs.get(request.params.id);
    if (!blob || blob.uploaderId !== auth.userId) throw new ChatroomError('BLOB_NOT_FOUND');
    return blob;
  };

  const uploadView = async (blob: BlobRecord): Promise<BlobUpload> => {
    const received = blob.state === 'stored' ? blob.size : await service.files.received(blob.id);
    return { id: blob.id, size: blob.size, received, complete: blob.state === 'stored' };
  };

  app.get('/api/blobs/limits', async (request): Promise<BlobLimits> => {
    const auth = requireAuth(request);
    return {
      maxUploadBytes: limits.maxUploadBytes,
      quotaBytes: limits.uploadQuotaBytes,
      usedBytes: await store.blobs.usedBytes(auth.userId),
      photoMaxDimension: limits.photoMaxDimension,
    };
  });

  app.post<{ Body: CreateBlobRequest }>('/api/blobs', { schema: { body: CreateBlobRequest } }, async (request, reply) => {
    const auth = requireAuth(request);
    limited(service.createLimiter, auth.userId);
    const { conversation } = await accessOrNotFound(deps, request.body.conv, auth.userId);
    if (request.body.size > limits.maxUploadBytes) {
      throw new ChatroomError('BLOB_TOO_LARGE', `Attachments on this server are at most ${limits.maxUploadBytes} bytes once encrypted.`, {
        maxBytes: limits.maxUploadBytes,
      });
    }
    const blob = await store.blobs.create({
      convId: conversation.id,
      uploaderId: auth.userId,
      size: request.body.size,
      now: deps.now(),
      quotaBytes: limits.uploadQuotaBytes,
    });
    return reply.code(201).send({ id: blob.id, size: blob.size, received: 0, complete: false } satisfies BlobUpload);
  });

  app.get<{ Params: IdParams }>('/api/blobs/:id/upload', { schema: { params: IdParams } }, async (request) => uploadView(await ownBlob(request)));

  // Only the upload route takes a raw body, in its own context: it reaches the handler as the
  // request stream, unbuffered (the app's 64 KiB JSON body limit is for parsed bodies). Any other
  // content type, or none, is refused before the handler runs.
  await app.register(async (uploads) => {
    uploads.addContentTypeParser('application/octet-stream', (_request, payload, done) => done(null, payload));
    uploads.addContentTypeParser('*', (_request, _payload, done) => done(new ChatroomError('BLOB_CONTENT_TYPE')));

    uploads.put<{ Params: IdParams; Querystring: { offset?: number } }>(
      '/api/blobs/:id',
      { schema: { params: IdParams, querystring: UploadQuery } },
      async (request, reply) => {
        const auth = requireAuth(request);
        limited(service.pieceLimiter, auth.userId);
        const blob = await ownBlob(request);
        // Stored already: the response to the last piece was lost. Same answer, nothing rewritten.
        if (blob.state === 'stored') return uploadView(blob);
        if (!(await store.getAccess(blob.convId, auth.userId))) throw new ChatroomError('BLOB_NOT_FOUND');
        if (service.active.has(blob.id)) throw new ChatroomError('UPLOAD_BUSY');
        const lengthHeader = request.headers['content-length'];
        const contentLength = lengthHeader === undefined ? undefined : Number(lengthHeader);
        service.active.add(blob.id);
        try {
          // Read again now that this request holds the blob: a PUT that finished between the first
          // read and `active.add` has stored it, and renaming a new temp file over it (then failing
          // markStored and deleting the file) would destroy the stored ciphertext.
          const current = await store.blobs.get(blob.id);
          if (!current) throw new ChatroomError('BLOB_NOT_FOUND');
          if (current.state === 'stored') return await uploadView(current);
          const result = await writePiece(
            service.files,
            { id: blob.id, offset: request.query.offset ?? 0, size: blob.size, contentLength, body: request.raw },
            async () => {
              let stored = false;
              try {
                await service.files.finalize(blob.id);
                stored = await store.blobs.markStored(blob.id, deps.now());
              } finally {
                // Cancelled or swept while the last piece arrived, or the finalize failed: the row is
                // not stored, so no file may stay behind (this request holds the blob: nobody else wrote it).
                if (!stored) await service.files.remove(blob.id).catch(() => {});
              }
              if (!stored) throw new ChatroomError('BLOB_NOT_FOUND');
            },
          );
          return { id: blob.id, size: blob.size, received: result.received, complete: result.complete } satisfies BlobUpload;
        } catch (err) {
          if (err instanceof ChatroomError && err.code === 'BLOB_TOO_LARGE') await store.blobs.delete(blob.id);
          if (err instanceof UploadAborted) return abandon(reply);
          // Counts only: the operator learns the disk is full, nothing about who or what.
          if (err instanceof ChatroomError && err.details.reason === 'server_disk_full') deps.log.event('store.disk_full');
          throw err;
        } finally {
          service.active.delete(blob.id);
        }
      },
    );
  });

  app.delete<{ Params: IdParams }>('/api/blobs/:id', { schema: { params: IdParams } }, async (request, reply) => {
    const blob = await ownBlob(request);
    if (blob.msgRef !== null) throw new ChatroomError('FORBIDDEN', 'This attachment was sent: it is deleted with its message.');
    if (service.active.has(blob.id)) throw new ChatroomError('UPLOAD_BUSY');
    await store.blobs.delete(blob.id);
    await service.files.remove(blob.id);
    return reply.code(204).send();
  });

  app.get<{ Params: IdParams }>('/api/blobs/:id', { schema: { params: IdParams }, exposeHeadRoute: false }, async (request, reply) => {
    const auth = requireAuth(request);
    const blob = await store.blobs.get(request.params.id);
    if (!blob || blob.state !== 'stored' || !(await store.getAccess(blob.convId, auth.userId))) throw new ChatroomError('BLOB_NOT_FOUND');
    let fh;
    try {
      // An open descriptor keeps reading even if a sweep unlinks the file mid-download.
      fh = await open(service.files.finalPath(blob.id), 'r');
    } catch {
      deps.log.event('store.blob_file_missing');
      throw new ChatroomError('BLOB_NOT_FOUND');
    }
    const size = (await fh.stat()).size;
    const range = parseRange(request.headers.range, size);
    reply.headers(BLOB_HEADERS);
    if (range.kind === 'unsatisfiable') {
      await fh.close();
      return reply.code(416).header('Content-Range', `bytes */${size}`).header('Content-Length', '0').send();
    }
    const start = range.kind === 'partial' ? range.start : 0;
    const end = range.kind === 'partial' ? range.end : size - 1;
    if (range.kind === 'partial') reply.code(206).header('Content-Range', `bytes ${start}-${end}/${size}`);
    reply.header('Content-Length', String(end - start + 1));
    return reply.send(fh.createReadStream({ start, end, autoClose: true }));
  });
};

/** The client is gone mid-piece: nothing to answer; what arrived stays for a resume. */
function abandon(reply: FastifyReply): FastifyReply {
  reply.raw.destroy();
  return reply;
}
