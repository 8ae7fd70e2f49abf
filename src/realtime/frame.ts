/**
 * Serialize and frame a server frame once per broadcast (websockets/ws#617): every recipient gets
 * the same Buffer written straight to its TCP socket instead of `ws.send` re-framing it per peer.
 */
import type { ServerFrame } from '../shared/protocol.ts';
import type { OutboundFrame } from './types.ts';

/** FIN + opcode 1 (text). Server-to-client frames are never masked (RFC 6455 §5.1). */
const FIN_TEXT = 0x81;

/** Prepares `frame` for any number of peers. */
export function prepareFrame(frame: ServerFrame): OutboundFrame {
  const text = JSON.stringify(frame);
  const wire = frameText(text);
  if (frame.t === 'msg') return { text, wire, conv: frame.conv, seq: frame.seq };
  return { text, wire };
}

/** The complete WebSocket text frame for `text`: a 2, 4 or 10 byte header, then its UTF-8 bytes. */
export function frameText(text: string): Buffer {
  const length = Buffer.byteLength(text, 'utf8');
  const headerBytes = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const wire = Buffer.allocUnsafe(headerBytes + length);
  wire[0] = FIN_TEXT;
  if (headerBytes === 2) {
    wire[1] = length;
  } else if (headerBytes === 4) {
    wire[1] = 126;
    wire.writeUInt16BE(length, 2);
  } else {
    wire[1] = 127;
    wire.writeUInt32BE(0, 2);
    wire.writeUInt32BE(length, 6);
  }
  wire.write(text, headerBytes, 'utf8');
  return wire;
}

/** Several prepared frames as one write: the wires back to back, shared by every recipient. */
export function batchFrames(frames: readonly OutboundFrame[]): OutboundFrame {
  if (frames.length === 1) return frames[0];
  return { text: '', wire: Buffer.concat(frames.map((f) => f.wire)), parts: frames };
}
