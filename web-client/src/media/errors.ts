/** Typed errors of media processing: a stable `code` for code, a `message` a person understands. */

/** Why a photo, voice message or received image was refused. */
export type MediaErrorCode =
  | 'unsupported_type' // not JPEG/PNG/WebP/GIF (SVG, HTML, anything else)
  | 'type_mismatch' // the bytes are another image type than the message declared
  | 'bad_header' // the header is malformed or cut short
  | 'too_large' // declared dimensions beyond the limits, refused before decoding
  | 'decode_failed' // the browser could not decode it
  | 'encode_failed' // the browser could not re-encode it
  | 'mic_denied' // NotAllowedError / SecurityError from getUserMedia
  | 'mic_missing' // NotFoundError / OverconstrainedError: no microphone
  | 'mic_busy' // NotReadableError / AbortError: another app holds it, or hardware failure
  | 'recorder_unsupported' // no MediaRecorder, no getUserMedia (insecure context) or no audio type
  | 'recording_failed' // the recorder stopped with an error
  | 'too_short' // stopped before minDurationMs (a double press): nothing worth sending
  | 'cancelled'; // the recording was cancelled

/** An error from web-client/src/media with a stable code. */
export class MediaError extends Error {
  readonly code: MediaErrorCode;
  constructor(code: MediaErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MediaError';
    this.code = code;
  }
}

/**
 * Turns a getUserMedia / MediaRecorder failure into a MediaError whose message says what happened
 * and what to do. Anything unknown keeps its cause and gets a generic message.
 */
export function microphoneError(err: unknown): MediaError {
  if (err instanceof MediaError) return err;
  const name = typeof err === 'object' && err !== null && 'name' in err ? String((err as { name: unknown }).name) : '';
  switch (name) {
    case 'NotAllowedError':
    case 'SecurityError':
    case 'PermissionDeniedError':
      return new MediaError('mic_denied', 'Microphone access was refused. Allow the microphone for this site in the browser’s site settings, then try again.', { cause: err });
    case 'NotFoundError':
    case 'DevicesNotFoundError':
    case 'OverconstrainedError':
      return new MediaError('mic_missing', 'No microphone was found. Connect one (or turn it on) and try again.', { cause: err });
    case 'NotReadableError':
    case 'TrackStartError':
    case 'AbortError':
      return new MediaError('mic_busy', 'The microphone could not be started. Another app may be using it; close that app and try again.', { cause: err });
    case 'TypeError':
      return new MediaError('recorder_unsupported', 'This browser cannot record here. Voice messages need a secure (https) connection.', { cause: err });
    default:
      return new MediaError('recording_failed', 'The recording failed. Try again.', { cause: err });
  }
}
