/** Runs the real bin in a pseudo-terminal for interactive CLI tests (python3's pty module). */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { BIN, requireBuild } from './helpers.ts';

/** The reason to skip pty tests, or false when python3's pty module is there. */
export const noPty: string | false = spawnSync('python3', ['-c', 'import pty']).status !== 0 && 'python3 with pty is not available';

/**
 * Drives `chatroom init` in a real pseudo-terminal (python3's pty module): waits for each prompt's
 * text, then types the answer. Prints the child's output and its exit code as the last line.
 */
const PTY_DRIVER = `
import json, os, pty, select, sys, time
steps = json.loads(sys.argv[1])
argv = sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    os.environ['NO_COLOR'] = '1'
    os.execvp(argv[0], argv)
out = b''
seen = 0
def read_until(pattern, deadline):
    global out
    while pattern.encode() not in out[seen:]:
        left = deadline - time.time()
        if left <= 0:
            return False
        r, _, _ = select.select([fd], [], [], left)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                return False
            if not chunk:
                return False
            out += chunk
    return True
for expect, send in steps:
    if not read_until(expect, time.time() + 20):
        sys.stdout.write(out.decode(errors='replace'))
        sys.stdout.write('\\nPTY-TIMEOUT waiting for ' + expect + '\\n')
        os.kill(pid, 9)
        sys.exit(3)
    seen = out.index(expect.encode(), seen) + len(expect)
    os.write(fd, send.encode())
while True:
    r, _, _ = select.select([fd], [], [], 20)
    if not r:
        break
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors='replace'))
sys.stdout.write('\\nEXIT ' + str(os.waitstatus_to_exitcode(status)) + '\\n')
`;

export function runInPty(args: string[], steps: Array<[string, string]>): { code: number; output: string } {
  requireBuild();
  const r = spawnSync('python3', ['-c', PTY_DRIVER, JSON.stringify(steps), process.execPath, BIN, ...args], { encoding: 'utf8', timeout: 120_000 });
  const m = /\nEXIT (-?\d+)\n$/.exec(r.stdout);
  assert.ok(m, `the pty driver finished:\n${r.stdout}\n${r.stderr}`);
  return { code: Number(m[1]), output: r.stdout };
}
