/**
 * Runs a system tool read-only for doctor and firewall detection: never throws, never waits past
 * its budget, and says whether the tool was missing, so a laptop without ufw is just "not there".
 */
import { execFile } from 'node:child_process';

export interface ToolResult {
  /** Exit code 0. */
  ok: boolean;
  /** The executable is not installed (ENOENT) or could not be started. */
  missing: boolean;
  /** Killed after the time budget. */
  timedOut: boolean;
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `cmd args` with a time budget (ms) and the C locale (the parsers expect English output). */
export function runTool(cmd: string, args: string[], opts: { timeoutMs?: number; env?: Record<string, string | undefined> } = {}): Promise<ToolResult> {
  const env = { ...(opts.env ?? process.env), LC_ALL: 'C', LANG: 'C' };
  return new Promise((resolve) => {
    let child;
    try {
      child = execFile(cmd, args, { timeout: opts.timeoutMs ?? 3000, killSignal: 'SIGKILL', env, maxBuffer: 4 * 1024 * 1024, windowsHide: true }, (err, stdout, stderr) => {
        const e = err as (NodeJS.ErrnoException & { killed?: boolean; code?: number | string }) | null;
        const missing = e?.code === 'ENOENT' || e?.code === 'EACCES';
        const code = e ? (typeof e.code === 'number' ? e.code : null) : 0;
        resolve({ ok: !e, missing, timedOut: Boolean(e?.killed), code, stdout: String(stdout), stderr: String(stderr) });
      });
    } catch {
      resolve({ ok: false, missing: true, timedOut: false, code: null, stdout: '', stderr: '' });
      return;
    }
    child.stdin?.end();
  });
}
