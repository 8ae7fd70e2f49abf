/**
 * Collects SIGINT/SIGTERM from the moment `start` begins (before any module loads or port opens),
 * so a stop request during startup is never lost and never kills the process half-open.
 */
import type { SignalSource, StopSignal } from './context.ts';

export interface StopRequests {
  /** How many stop signals arrived so far. */
  readonly count: number;
  /** Resolves at the first stop signal. */
  readonly first: Promise<StopSignal>;
  /** Called for every signal from now on (after the ones already counted). */
  onSignal(listener: (signal: StopSignal, count: number) => void): void;
  /** Removes the process handlers. */
  dispose(): void;
}

export function listenForStop(signals: SignalSource): StopRequests {
  let count = 0;
  let resolveFirst: (s: StopSignal) => void = () => {};
  const first = new Promise<StopSignal>((resolve) => (resolveFirst = resolve));
  const listeners: Array<(signal: StopSignal, count: number) => void> = [];
  const handler = (signal: StopSignal) => () => {
    count += 1;
    resolveFirst(signal);
    for (const l of listeners) l(signal, count);
  };
  const onInt = handler('SIGINT');
  const onTerm = handler('SIGTERM');
  signals.on('SIGINT', onInt);
  signals.on('SIGTERM', onTerm);
  return {
    get count() {
      return count;
    },
    first,
    onSignal: (l) => void listeners.push(l),
    dispose() {
      signals.off('SIGINT', onInt);
      signals.off('SIGTERM', onTerm);
    },
  };
}
