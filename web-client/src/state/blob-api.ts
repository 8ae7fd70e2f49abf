/**
 * The attachment routes of docs/ATTACHMENTS.md from the browser: limits, declare an upload, send
 * ciphertext pieces (XMLHttpRequest, for upload progress: fetch has none), ask where to resume,
 * cancel, and download as a stream with progress. Only ciphertext ever goes through here.
 */
import type { BlobLimits, BlobUpload } from '../../../src/shared/api.ts';
import { ApiError, fetchJson } from './api.ts';

export type { BlobLimits, BlobUpload };

/** Bytes per PUT: small enough for the server's 30 s request timeout on a ~2 Mbit/s uplink. */
export const PIECE_BYTES = 4 * 1024 * 1024;

/** A request the user cancelled (not an error to show). */
export class TransferCancelled extends Error {
  override readonly name = 'TransferCancelled';
  constructor() {
    super('cancelled');
  }
}

/** A refusal of an attachment route, with the error's extra fields (e.g. `maxBytes` of a 413). */
export class BlobApiError extends ApiError {
  constructor(status: number, code: string, message: string, readonly details: Record<string, unknown> = {}) {
    super(status, code, message);
  }
}

function errorFrom(status: number, text: string): BlobApiError {
  let err: ({ code?: string; message?: string } & Record<string, unknown>) | undefined;
  try {
    err = (JSON.parse(text) as { error?: { code?: string; message?: string } & Record<string, unknown> }).error;
  } catch {
    err = undefined;
  }
  const { code, message, ...details } = err ?? {};
  return new BlobApiError(status, code ?? `HTTP_${status}`, message ?? `The server answered ${status}.`, details);
}

async function json<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetchJson(method, path, body);
  const text = await res.text();
  if (!res.ok) throw errorFrom(res.status, text);
  return (text ? JSON.parse(text) : undefined) as T;
}

const enc = encodeURIComponent;

/** GET /api/blobs/limits. */
export function blobLimits(): Promise<BlobLimits> {
  return json<BlobLimits>('GET', '/api/blobs/limits');
}

/** POST /api/blobs: declares an upload of `size` ciphertext bytes in `conv`. */
export function createUpload(conv: string, size: number): Promise<BlobUpload> {
  return json<BlobUpload>('POST', '/api/blobs', { conv, size });
}

/** GET /api/blobs/:id/upload: how many bytes the server holds. */
export function uploadState(id: string): Promise<BlobUpload> {
  return json<BlobUpload>('GET', `/api/blobs/${enc(id)}/upload`);
}

/** DELETE /api/blobs/:id: an unsent upload or blob goes (a missing one is fine). */
export async function deleteUpload(id: string): Promise<void> {
  try {
    await json<void>('DELETE', `/api/blobs/${enc(id)}`);
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 404) throw err;
  }
}

/**
 * PUT /api/blobs/:id?offset=: sends `piece` (ciphertext from `offset`); `onProgress` gets the
 * bytes of this piece sent so far. `signal` aborts it (TransferCancelled).
 */
export function putPiece(id: string, offset: number, piece: Blob, onProgress: (sent: number) => void, signal?: AbortSignal): Promise<BlobUpload> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new TransferCancelled());
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', `/api/blobs/${enc(id)}?offset=${offset}`);
    xhr.withCredentials = true;
    xhr.setRequestHeader('content-type', 'application/octet-stream');
    xhr.upload.onprogress = (e) => onProgress(e.loaded);
    const onAbort = () => xhr.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const settle = () => signal?.removeEventListener('abort', onAbort);
    xhr.onload = () => {
      settle();
      if (xhr.status >= 200 && xhr.status < 300) resolve(JSON.parse(xhr.responseText) as BlobUpload);
      else reject(errorFrom(xhr.status, xhr.responseText));
    };
    xhr.onerror = () => {
      settle();
      reject(new ApiError(0, 'NETWORK', 'The upload was interrupted. Check your connection and retry.'));
    };
    xhr.onabort = () => {
      settle();
      reject(new TransferCancelled());
    };
    xhr.send(piece);
  });
}

/**
 * GET /api/blobs/:id as a stream of ciphertext pieces; `onProgress` gets the bytes received so
 * far. Rejects with ApiError for a refusal (404 for a blob this user may not see).
 */
export async function downloadStream(id: string, onProgress: (received: number) => void, signal?: AbortSignal): Promise<ReadableStream<Uint8Array>> {
  let res: Response;
  try {
    res = await fetch(`/api/blobs/${enc(id)}`, { credentials: 'same-origin', signal });
  } catch {
    if (signal?.aborted) throw new TransferCancelled();
    throw new ApiError(0, 'NETWORK', 'Cannot reach the server. Check your connection and try again.');
  }
  if (!res.ok || !res.body) throw errorFrom(res.status, await res.text());
  let received = 0;
  return res.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        received += chunk.length;
        onProgress(received);
        controller.enqueue(chunk);
      },
    }),
  );
}
