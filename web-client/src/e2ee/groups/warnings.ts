/**
 * What the engine tells the user about besides messages: devices and packages it refused (the
 * server-as-adversary case), Welcomes it could not use, commits it could not apply.
 */

export type WarningCode =
  /** A listed device whose certificate does not verify, or names another user or device id. */
  | 'invalid_device'
  /** A claimed KeyPackage that failed the credential check (swapped or forged). */
  | 'key_package_refused'
  /** A Welcome that could not be used (not for our KeyPackages, another conversation, bad tree). */
  | 'welcome_refused'
  /** A commit in the log this device cannot apply: the conversation's encryption is stuck here. */
  | 'commit_unreadable'
  /** A commit could not be posted (e.g. a full Welcome inbox, or the server refused it). */
  | 'commit_failed'
  /** The epoch-key archive could not be updated (history on new devices may be missing). */
  | 'archive_failed';

export interface E2eeWarning {
  code: WarningCode;
  /** One sentence for the UI. */
  message: string;
  conv?: string;
  userId?: string;
  deviceId?: string;
  /** ms since the Unix epoch. */
  at: number;
}

/** Fired on the codec (as `new Event(WARNINGS_EVENT)`) when `warnings` or `keyChanges()` changed. */
export const WARNINGS_EVENT = 'warnings';
