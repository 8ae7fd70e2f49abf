/**
 * Message bodies that carry their own send time. A body is opaque base64 to both servers; ours
 * is a canonical base64 text whose first 24 characters are decimal digits (a 12-digit
 * performance.now() in µs, a 4-digit step id, an 8-digit sender client index), padded with 'A' to exactly BODY_BYTES decoded
 * bytes. Canonical base64 survives the project's decode → store → re-encode unchanged, so the
 * receiver reads the digits straight out of the frame without parsing JSON or decoding base64.
 */

/** Decoded body size, bytes (the "200-byte bodies"). */
export const BODY_BYTES = 200;
/** base64 length of BODY_BYTES: 268 characters, ending in one '='. */
const BODY_CHARS = 4 * Math.ceil(BODY_BYTES / 3);
const PADDING = (3 - (BODY_BYTES % 3)) % 3;
/** Digits at the start of every body: 12 (µs) + 4 (step) + 8 (sender), a whole number of base64 quartets. */
const STAMP_CHARS = 24;
const FILLER = 'A'.repeat(BODY_CHARS - STAMP_CHARS - PADDING) + '='.repeat(PADDING);

const BODY_KEY = Buffer.from('"body":"', 'latin1');
const DIGIT_0 = 48;

/** The base64 body for a message sent now by client `sender` in step `stepId` (0–9999). */
export function makeBody(stepId: number, sender: number, nowMs = performance.now()): string {
  const us = Math.round(nowMs * 1000);
  return String(us).padStart(12, '0') + String(stepId).padStart(4, '0') + String(sender).padStart(8, '0') + FILLER;
}

/** What a received `msg` frame says about itself; `null` for any other frame. */
export interface Stamp {
  sentMs: number;
  stepId: number;
  /** Index of the client that sent it. */
  sender: number;
}

function digits(buf: Buffer, from: number, count: number): number {
  let n = 0;
  for (let i = from; i < from + count; i++) n = n * 10 + (buf[i] - DIGIT_0);
  return n;
}

/** Reads the stamp of a `msg` frame (only `msg` frames have a `body`); null for other frames. */
export function readStamp(frame: Buffer): Stamp | null {
  const at = frame.indexOf(BODY_KEY);
  if (at < 0) return null;
  const start = at + BODY_KEY.length;
  return { sentMs: digits(frame, start, 12) / 1000, stepId: digits(frame, start + 12, 4), sender: digits(frame, start + 16, 8) };
}
