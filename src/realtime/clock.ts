/** Whole ms since the process started: a small integer (no heap number) for its first 24 days. */
export function monotonicMs(): number {
  return Math.floor(performance.now());
}
