/**
 * Cross-tab mutual exclusion: tabs of one browser share the device and its vault, so two of them
 * must never process or commit on one conversation's group at the same time. Web Locks where the
 * runtime has them (browsers); elsewhere (Node, one engine per store) the task just runs.
 */
export function withLock<T>(name: string, task: () => Promise<T>): Promise<T> {
  const locks = (globalThis.navigator as (Navigator & { locks?: LockManager }) | undefined)?.locks;
  return locks ? (locks.request(name, task) as Promise<T>) : task();
}
