/**
 * Writes one piece of an upload to its temp file, streaming (never the whole body in memory), and
 * finalizes the blob when the last byte arrives. Uploads resume: a piece may start anywhere up to
 * the bytes already held, so a client retries a failed piece with the same ciphertext instead of
 * encrypting again.
 */
import { open } from 'node:fs/promises';
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

/**
 * Appends the piece at `offset` (cutting off anything the temp file held beyond it). Bytes past the
 * declared size are BLOB_TOO_LARGE and discard the whole temp file: nothing half-stored remains.
 * Resolves once the piece is written; when it completes the blob, `finalize` has run too.
 */
export async function writePiece(files: BlobFiles, input: PieceInput, finalize: () => Promise<void>): Promise<PieceResult> {
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
    try {
      for await (const chunk of input.body as AsyncIterable<Buffer>) {
        if (position + chunk.length > input.size) {
          await fh.close().catch(() => {});
          await files.removeTemp(input.id);
          throw new ChatroomError('BLOB_TOO_LARGE', `The upload went past the ${input.size} bytes declared for the attachment.`, { size: input.size });
        }
        await fh.write(chunk, 0, chunk.length, position);
        position += chunk.length;
      }
    } catch (err) {
      if (err instanceof ChatroomError) throw err;
      throw new UploadAborted();
    }
  } finally {
    await fh.close().catch(() => {});
  }
  if (input.contentLength !== undefined && position !== input.offset + input.contentLength) throw new UploadAborted();
  const complete = position === input.size;
  if (complete) await finalize();
  return { received: position, complete };
}
