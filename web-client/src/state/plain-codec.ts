/**
 * The body codec of a client without end-to-end keys: content as JSON, unencrypted. It exists only
 * until the store switches to the E2EE codec (e2ee/groups/) and is never used once keys are ready.
 */
import type { ServerFrame } from '../../../src/shared/protocol.ts';
import { decodeBody, encodeContent } from '../content.ts';
import type { BodyCodec, DecodedBody, MessageContent } from './body-codec.ts';

export class PlainCodec extends EventTarget implements BodyCodec {
  readonly encrypted = false;

  encode(_conv: string, content: MessageContent): Promise<string> {
    return Promise.resolve(encodeContent(content));
  }

  decode(_conv: string, msg: { body: string }): Promise<DecodedBody> {
    return Promise.resolve({ ok: true, content: decodeBody(msg.body) });
  }

  onFrame(_f: ServerFrame): void {}
  onConnected(): void {}
  close(): void {}
}
