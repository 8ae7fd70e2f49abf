/**
 * Writes one piece of an upload to its temp file, streaming (never the whole body in memory), and
 * finalizes the blob when the last byte arrives. Uploads resume: a piece may start anywhere up to
 * the bytes already held, so a client retries a failed piece with the same ciphertext instead of
 * encrypting again.
 */
import { open, type FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { ChatroomError } from '../../shared/errors.ts';
import type { BlobFiles } from './files.ts';

export interface PieceInput {
  id: string;
  /** Where this piece starts, bytes. */
  offset: number;
  /** The blob's declared ciphertext size, bytes. */
  size: number;
  /** The request's Content-Length, when it sent one. */
  contentLength: number | undefined;
  body: Readable;
}

export interface PieceResult {
  received: number;
  complete: boolean;
}

/** The client went away mid-piece: what arrived stays in the temp file for a resume. */
export class UploadAborted extends Error {
  constructor() {
    super('the upload request was aborted');
    this.name = 'UploadAborted';
  }
}

/** The disk (or the operator's disk quota) is full: errno codes for "no room to write", and SQLite's (marking the row stored). */
const NO_SPACE = new Set(['ENOSPC', 'EDQUOT', 'SQLITE_FULL']);

/** 507 for a full disk: the same code as a full per-user quota (the client's answer is the same: not now), with its own reason. */
export function diskFull(): ChatroomError {
  return new ChatroomError('UPLOAD_QUOTA_EXCEEDED', "The server's disk is full: the attachment was not stored. Try again later, or tell the operator.", {
    reason: 'server_disk_full',
  });
}

/** Whether `err` means the disk had no room (errno or SQLite code). */
export function isNoSpace(err: unknown): boolean {
  return NO_SPACE.has((err as NodeJS.ErrnoException | null)?.code ?? '');
}

/** Writes all of `chunk` at `position`: a write may take fewer bytes than asked (near a full disk), so it loops. */
async function writeAll(fh: FileHandle, chunk: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < chunk.length) {
    const { bytesWritten } = await fh.write(chunk, done, chunk.length - done, position + done);
    // A regular file never takes 0 bytes without an error; guard anyway rather than spin.
    if (bytesWritten <= 0) throw Object.assign(new Error('the disk took no bytes'), { code: 'ENOSPC' });
    done += bytesWritten;
  }
}

/**
 * Reads and drops the rest of a body the server will not store, so the client can finish sending
 * and read the error (stopping to read would stall it until the request timeout; destroying the
 * request would reset the connection before the answer). At most `budget` more bytes, the
 * declared size left: past that the request is cut.
 */
function discardRest(chunks: AsyncIterator<Buffer>, budget: number, body: Readable): void {
  void (async () => {
    try {
      for (let left = budget; ; ) {
        const next = await chunks.next();
        if (next.done) return;
        left -= next.value.length;
        if (left < 0) break;
      }
    } catch {
      return;
    }
    body.destroy();
  })();
}

/**
 * Appends the piece at `offset` (cutting off anything the temp file held beyond it). Bytes past the
 * declared size are BLOB_TOO_LARGE and discard the whole temp file: nothing half-stored remains.
 * A full disk (ENOSPC, EDQUOT) while writing or finalizing is a 507 and discards the temp file too.
 * Resolves once the piece is written; when it completes the blob, `finalize` has run too.
 */
export async function writePiece(files: BlobFiles, input: PieceInput, finalize: () => Promise<void>): Promise<PieceResult> {
  try {
    return await writePieceOnDisk(files, input, finalize);
  } catch (err) {
    if (!isNoSpace(err)) throw err;
    await files.removeTemp(input.id).catch(() => {});
    throw diskFull();
  }
}

async function writePieceOnDisk(files: BlobFiles, input: PieceInput, finalize: () => Promise<void>): Promise<PieceResult> {
  const held = await files.received(input.id);
  if (input.offset > held) throw new ChatroomError('UPLOAD_OFFSET', undefined, { received: held });
  if (input.contentLength !== undefined && input.offset + input.contentLength > input.size) {
    await files.removeTemp(input.id);
    throw new ChatroomError('BLOB_TOO_LARGE', `This piece ends at byte ${input.offset + input.contentLength}, past the ${input.size} bytes declared for the attachment.`, {
      size: input.size,
    });
  }
  const fh = await open(files.tempPath(input.id), input.offset === 0 ? 'w' : 'r+', 0o600);
  let position = input.offset;
  try {
    if (input.offset > 0) await fh.truncate(input.offset);
    // Pulling the next chunk only after the last one is on disk is the backpressure: the socket
    // is paused meanwhile. Errors of the body (the client went away) and of the file (the disk)
    // are told apart: only the first is an abort.
    const chunks = (input.body as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
    for (;;) {
      let next: IteratorResult<Buffer>;
      try {
        next = await chunks.next();
      } catch {
        throw new UploadAborted();
      }
      if (next.done) break;
      const chunk = next.value;
      if (position + chunk.length > input.size) {
        await fh.close().catch(() => {});
        await files.removeTemp(input.id);
        throw new ChatroomError('BLOB_TOO_LARGE', `The upload went past the ${input.size} bytes declared for the attachment.`, { size: input.size });
      }
      try {
        await writeAll(fh, chunk, position);
      } catch (err) {
        discardRest(chunks, input.size - position - chunk.length, input.body);
        throw err;
      }
      position += chunk.length;
    }
  } finally {
    await fh.close().catch(() => {});
  }
  if (input.contentLength !== undefined && position !== input.offset + input.contentLength) throw new UploadAborted();
  const complete = position === input.size;
  if (complete) await finalize();
  return { received: position, complete };
}
