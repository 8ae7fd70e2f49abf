/**
 * When to start a new epoch (forward secrecy and post-compromise healing for content keys).
 * Membership changes always rotate because they are commits; on top of that a client makes an
 * empty self-update commit when the epoch is old or has carried many messages.
 */
export interface RotationPolicy {
  /** Maximum epoch age, ms (default 7 days). */
  maxAgeMs: number;
  /** Maximum envelopes sent in one epoch, counted by all members (default 1,000). */
  maxMessages: number;
}

export const DEFAULT_ROTATION_POLICY: RotationPolicy = { maxAgeMs: 7 * 24 * 3600 * 1000, maxMessages: 1000 };

export interface EpochUsage {
  /** When this device first saw the epoch, ms since the Unix epoch. */
  epochStartedAt: number;
  /** Envelopes seen in this epoch (sent and received). */
  messages: number;
  /** A member add/remove is waiting to be committed. */
  membershipChangePending?: boolean;
  /** A device of the group is suspected compromised. */
  compromiseSuspected?: boolean;
}

export type RotationDecision = { rotate: false } | { rotate: true; reason: 'membership' | 'compromise' | 'age' | 'messages' };

/** Pure: should this client commit now? (Commit the membership change itself when that is the reason.) */
export function shouldRotateEpoch(usage: EpochUsage, now: number, policy: RotationPolicy = DEFAULT_ROTATION_POLICY): RotationDecision {
  if (usage.membershipChangePending) return { rotate: true, reason: 'membership' };
  if (usage.compromiseSuspected) return { rotate: true, reason: 'compromise' };
  if (now - usage.epochStartedAt >= policy.maxAgeMs) return { rotate: true, reason: 'age' };
  if (usage.messages >= policy.maxMessages) return { rotate: true, reason: 'messages' };
  return { rotate: false };
}
