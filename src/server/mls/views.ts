/** Store records → the API's MLS views (src/shared/mls-api.ts): bytes become base64url. */
import type { DeviceView, GroupState, LogEntry, OwnDeviceView, WelcomeView } from '../../shared/mls-api.ts';
import type { CommitRecord, MlsDevice, MlsGroup, PendingRemovalRecord, WelcomeRecord } from '../../store/mls-types.ts';
import { encodeB64Url } from './bytes.ts';

/**
 * A device as other users see it: no label and no registration time (which would tell them when
 * someone set up a new phone). An empty certificate only ever reaches the owner.
 */
export function deviceView(d: MlsDevice): DeviceView {
  return { id: d.id, userId: d.userId, certificate: d.certificate ? encodeB64Url(d.certificate) : '' };
}

export function ownDeviceView(d: MlsDevice, sessionHash: string): OwnDeviceView {
  return { ...deviceView(d), createdAt: d.createdAt, label: d.label, current: d.sessionHash === sessionHash };
}

export function logEntry(c: CommitRecord): LogEntry {
  return { seq: c.seq, epoch: c.epoch, sender: c.senderDeviceId, commit: encodeB64Url(c.data), ts: c.ts };
}

export function groupState(g: MlsGroup, removals: PendingRemovalRecord[]): GroupState {
  return {
    conv: g.convId,
    epoch: g.epoch,
    headSeq: g.headSeq,
    createdAt: g.createdAt,
    pendingRemovals: removals.map((r) => ({
      userId: r.userId,
      ...(r.deviceId ? { device: r.deviceId } : {}),
      reason: r.reason,
      at: r.createdAt,
      ...(r.resolvedSeq !== null ? { resolvedBySeq: r.resolvedSeq } : {}),
    })),
  };
}

export function welcomeView(w: WelcomeRecord): WelcomeView {
  return { id: w.id, conv: w.convId, epoch: w.epoch, welcome: encodeB64Url(w.data), ts: w.ts };
}
