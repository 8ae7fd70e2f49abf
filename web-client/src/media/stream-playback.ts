/**
 * Streamed playback: feeds plaintext chunks (as `decryptFile` yields them while the download runs)
 * into a MediaSource, so a voice message (or video) starts playing before its whole file has
 * arrived. Where MediaSource cannot take the type, the caller falls back to a blob: URL of the
 * whole file (`canStream` says which).
 */

/** Whether this browser can play `mime` from a MediaSource (WebM/Opus in Chromium and Firefox). */
export function canStream(mime: string): boolean {
  return typeof MediaSource !== 'undefined' && MediaSource.isTypeSupported(mime);
}

/** A MediaSource being filled; `url` goes into <voice-player src>. */
export interface StreamedMedia {
  url: string;
  /** Resolves once every chunk is appended and the stream is ended; rejects if a chunk failed (e.g. decryption). */
  done: Promise<void>;
  /** Stops feeding (the element keeps what it has) and releases the URL. */
  revoke(): void;
}

/**
 * Appends each chunk of `chunks` to a SourceBuffer of type `mime` as it comes. An error from the
 * iterator (a corrupt or truncated file: FileChunkError) ends the stream with a decode error, so
 * the element stops instead of playing unauthenticated bytes beyond the last good chunk.
 */
export function streamToMediaSource(chunks: AsyncIterable<Uint8Array>, mime: string): StreamedMedia {
  const source = new MediaSource();
  const url = URL.createObjectURL(source);
  let stopped = false;
  const done = (async () => {
    if (source.readyState !== 'open') await once(source, 'sourceopen');
    const buffer = source.addSourceBuffer(mime);
    try {
      for await (const chunk of chunks) {
        if (stopped) return;
        buffer.appendBuffer(chunk as Uint8Array<ArrayBuffer>);
        await once(buffer, 'updateend');
      }
      if (!stopped && source.readyState === 'open') source.endOfStream();
    } catch (err) {
      if (source.readyState === 'open') source.endOfStream('decode');
      throw err;
    }
  })();
  done.catch(() => {});
  return {
    url,
    done,
    revoke() {
      stopped = true;
      URL.revokeObjectURL(url);
    },
  };
}

function once(target: EventTarget, type: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const ok = () => {
      target.removeEventListener('error', fail);
      resolve();
    };
    const fail = () => {
      target.removeEventListener(type, ok);
      reject(new Error(`media source: ${type} failed`));
    };
    target.addEventListener(type, ok, { once: true });
    target.addEventListener('error', fail, { once: true });
  });
}
