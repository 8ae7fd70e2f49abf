/**
 * What a command gets instead of `process`: streams, env, whether it may prompt, colors and a
 * signal source. Commands return an exit code and never call process.exit, so cleanup (closing
 * the server, removing port mappings) always runs, and tests can run them in-process.
 */
export type StopSignal = 'SIGINT' | 'SIGTERM';

export interface SignalSource {
  on(signal: StopSignal, listener: () => void): unknown;
  off(signal: StopSignal, listener: () => void): unknown;
}

export interface CliContext {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
  env: Record<string, string | undefined>;
  /** stdin and stdout are both terminals: prompts are allowed. */
  isTTY: boolean;
  /** ANSI colors on stdout/stderr (a TTY and no NO_COLOR). */
  color: boolean;
  /** Relative --dir values resolve against this. */
  cwd: string;
  /** Where SIGINT/SIGTERM come from (process in real life). */
  signals: SignalSource;
}

/** The context of the real process, with `overrides` taking the place of its parts (tests). */
export function processContext(overrides: Partial<CliContext> = {}): CliContext {
  // Only touch process.stdin when it is needed: creating it opens a handle on fd 0.
  const stdin = overrides.stdin ?? process.stdin;
  const env = overrides.env ?? process.env;
  const isTTY = overrides.isTTY ?? Boolean(process.stdout.isTTY && (stdin as { isTTY?: boolean }).isTTY);
  return {
    stdout: overrides.stdout ?? process.stdout,
    stderr: overrides.stderr ?? process.stderr,
    stdin,
    env,
    isTTY,
    color: overrides.color ?? colorAllowed(env, Boolean(process.stdout.isTTY)),
    cwd: overrides.cwd ?? process.cwd(),
    signals: overrides.signals ?? process,
  };
}

/** NO_COLOR (any value) turns colors off; otherwise only on a terminal (https://no-color.org). */
export function colorAllowed(env: Record<string, string | undefined>, tty: boolean): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return tty;
}
