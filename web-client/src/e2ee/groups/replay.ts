/**
 * The replay window the engine hands openEnvelope, keyed by the message's seq as well: the same
 * envelope delivered again at the same seq (history reloaded, a frame replayed after reconnect) is
 * the same message, not a duplicate; the same (device, message id) at another seq is a replay.
 */
import { toHex } from '../../crypto/bytes.ts';
import { ReplayWindow } from '../../crypto/index.ts';

export class SeqReplayWindow extends ReplayWindow {
  /** `<device>/<message id hex>` → the seq it was first accepted at, oldest first. */
  private readonly seqs = new Map<string, number>();
  private current = 0;

  /** Sets the seq of the envelope about to be opened (calls for one conversation are serialised). */
  at(seq: number): this {
    this.current = seq;
    return this;
  }

  override has(senderDeviceId: string, messageId: Uint8Array): boolean {
    const seq = this.seqs.get(`${senderDeviceId}/${toHex(messageId)}`);
    return seq !== undefined && seq !== this.current;
  }

  override add(senderDeviceId: string, messageId: Uint8Array): void {
    const k = `${senderDeviceId}/${toHex(messageId)}`;
    if (this.seqs.has(k)) return;
    this.seqs.set(k, this.current);
    while (this.seqs.size > this.capacity) this.seqs.delete(this.seqs.keys().next().value as string);
  }
}
