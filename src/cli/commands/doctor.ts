/** `chatroom doctor`: checks what stands between this server and its users, and says how to fix each problem. */
import { Command } from 'commander';
import { ChatroomError } from '../../shared/errors.ts';
import type { CliContext } from '../context.ts';
import { listenForStop } from '../stop.ts';
import { addConfigFlags, addDirOption, dirOf, overridesOf } from './shared.ts';
import type { CommandResult } from './index.ts';

/** Default per-probe budget, ms. */
const DEFAULT_TIMEOUT_MS = 3000;
/** Default wait for the phone in --remote, seconds. */
const DEFAULT_WAIT_S = 300;

function positiveInt(flag: string, value: string | undefined, fallback: number, example: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new ChatroomError('USAGE', `${flag} must be a whole number above 0 (got ${JSON.stringify(value)}), e.g. ${flag} ${example}`);
  return n;
}

export function doctorCommand(ctx: CliContext, result: CommandResult): Command {
  const cmd = new Command('doctor').description('Check whether people can reach this server, and how to fix what stops them');
  addDirOption(cmd);
  cmd.option('--json', 'print one JSON document (checks and verdict) instead of the report');
  cmd.option('--timeout <ms>', `time budget per probe, ms (default ${DEFAULT_TIMEOUT_MS})`);
  cmd.option('--only <sections>', 'run only these sections, comma-separated: local,firewall,router,internet,tls');
  cmd.option('--remote', 'then test from your phone: prints a one-time URL and QR code and reports what the phone saw');
  cmd.option('--wait <seconds>', `with --remote: how long to wait for the phone (default ${DEFAULT_WAIT_S})`);
  // The same addresses `start` got, when they differ from chatroom.yaml.
  addConfigFlags(cmd, ['port', 'httpPort', 'host', 'publicUrl', 'tls.mode']);
  cmd.action(async (opts: Record<string, unknown> & { dir?: string; json?: boolean; timeout?: string; remote?: boolean; wait?: string; only?: string }) => {
    const timeoutMs = positiveInt('--timeout', opts.timeout, DEFAULT_TIMEOUT_MS, '5000');
    const remoteWaitMs = positiveInt('--wait', opts.wait, DEFAULT_WAIT_S, '600') * 1000;
    if (opts.remote && opts.json) throw new ChatroomError('USAGE', '--remote waits for your phone and prints as results come in: it does not combine with --json. Run `chatroom doctor --json` and `chatroom doctor --remote` separately.');
    const stop = opts.remote ? listenForStop(ctx.signals) : undefined;
    try {
      const { runDoctorCommand, selectGroups } = await import('../doctor/flow.ts');
      const groups = opts.only === undefined ? undefined : selectGroups(opts.only);
      result.code = await runDoctorCommand(dirOf(opts, ctx), { json: Boolean(opts.json), timeoutMs, remote: Boolean(opts.remote), remoteWaitMs, overrides: overridesOf(opts), groups }, ctx, stop);
    } finally {
      stop?.dispose();
    }
  });
  return cmd;
}
