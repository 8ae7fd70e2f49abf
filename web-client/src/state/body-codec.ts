/**
 * The one seam between the chat store and what a message body holds. The store hands content to
 * `encode` and bodies to `decode`; nothing else in the client looks inside `body`. The end-to-end
 * codec (e2ee/groups/) seals MLS-keyed envelopes; a client without keys cannot send at all.
 */
import type { ServerFrame } from '../../../src/shared/protocol.ts';
import type { MessageContent } from '../crypto/index.ts';

export type { MessageContent };

/** A body as the client understood it. Never silently dropped: a failure carries its reason. */
export type DecodedBody =
  | {
      ok: true;
      content: MessageContent;
      /** Hex envelope id (what reply/edit/reaction `target`s name); absent for unencrypted bodies. */
      id?: string;
      /** The device that signed it (E2EE only). */
      deviceId?: string;
    }
  | {
      ok: false;
      /** Stable code, e.g. a CryptoError code (`unknown_epoch`, `bad_signature`) or `not_encrypted`. */
      code: string;
      /** One sentence for the bubble: what happened and whether it may still resolve. */
      reason: string;
      /** True when a later retry may succeed (keys not here yet): the codec fires `keys` when it is worth retrying. */
      retryable: boolean;
    };

/** A refusal to send, with a sentence the composer shows (e.g. a changed safety number). */
export class SendRefused extends Error {
  override readonly name = 'SendRefused';
  constructor(
    readonly code: string,
    message: string,
    /** True while the codec is still waiting for keys (another member must add this device). */
    readonly waiting = false,
  ) {
    super(message);
  }
}

export interface BodyCodec extends EventTarget {
  /** True when bodies are end-to-end encrypted (the UI shows the lock). */
  readonly encrypted: boolean;
  /** The wire body (base64) for `content` in `conv`. May wait for keys; throws SendRefused when it cannot. */
  encode(conv: string, content: MessageContent): Promise<string>;
  /** Never throws. The same (conv, seq) always decodes to the same answer once it succeeded. */
  decode(conv: string, msg: { seq: number; sender: string; body: string }): Promise<DecodedBody>;
  /** Every server frame, so the codec can follow mls.commit / mls.welcome / mls.removal / conversations. */
  onFrame(f: ServerFrame): void;
  /** The socket (re)opened: catch up on Welcomes and handshake logs missed while away. */
  onConnected(): void;
  /** Stops timers and listeners (sign-out). */
  close(): void;
}

/** Fired on a codec (as `new Event(KEYS_EVENT)`) when new keys arrived: retry failed decodes and waiting sends. */
export const KEYS_EVENT = 'keys';
