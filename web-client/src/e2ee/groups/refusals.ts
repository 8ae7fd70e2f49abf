/**
 * What the chat shows for a message it cannot open: a stable code, one plain sentence, and whether
 * waiting may fix it (keys still on their way). Nothing is ever "unable to decrypt" without a reason.
 */
import type { DecodedBody } from '../../state/body-codec.ts';

export type Refusal = Extract<DecodedBody, { ok: false }>;

const REASONS: Record<string, { reason: string; retryable: boolean }> = {
  unknown_epoch: { reason: 'Sent before this device joined, and no key backup covers it yet.', retryable: true },
  waiting_for_keys: { reason: 'This device has not been added to the conversation’s encryption yet; it will open once another member adds it.', retryable: true },
  catching_up: { reason: 'This device is still catching up with the conversation’s encryption; it will open shortly.', retryable: true },
  unknown_sender: { reason: 'Sent by a device that was not part of this conversation’s encryption at the time.', retryable: false },
  bad_signature: { reason: 'The sender’s signature does not match: the message was altered or forged.', retryable: false },
  decrypt_failed: { reason: 'The message was altered after it was sent, so it cannot be decrypted.', retryable: false },
  duplicate: { reason: 'A second copy of a message already shown (the server delivered it twice).', retryable: false },
  wrong_group: { reason: 'This message belongs to another conversation: the server delivered it to the wrong place.', retryable: false },
  wrong_channel: { reason: 'This message belongs to another channel: the server delivered it to the wrong place.', retryable: false },
  wrong_sender: { reason: 'The server names a different sender from the one who signed this message.', retryable: false },
  malformed: { reason: 'This message is damaged or is not an encrypted message.', retryable: false },
  unsupported_version: { reason: 'Sent from a newer version of the app: update to read it.', retryable: false },
  too_large: { reason: 'This message is larger than any encrypted message can be.', retryable: false },
  decode_error: { reason: 'This device could not open the message just now; it will try again.', retryable: true },
};

/** The refusal for `code` (an unknown code gets the generic retryable one). */
export function refusal(code: string): Refusal {
  const r = REASONS[code] ?? REASONS.decode_error;
  return { ok: false, code: REASONS[code] ? code : 'decode_error', reason: r.reason, retryable: r.retryable };
}
