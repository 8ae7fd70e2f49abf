/** `chatroom start`: serves until SIGINT/SIGTERM, then closes connections, the store and exits 0. */
import { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { listenForStop } from '../stop.ts';
import { addConfigFlags, addDirOption, dirOf, overridesOf } from './shared.ts';
import type { CommandResult } from './index.ts';

export function startCommand(ctx: CliContext, result: CommandResult): Command {
  const cmd = new Command('start').description('Run the server (Ctrl+C stops it)');
  addDirOption(cmd);
  addConfigFlags(cmd);
  cmd.action(async (opts: Record<string, unknown>) => {
    const stop = listenForStop(ctx.signals);
    try {
      // Loaded on use, so `--help` and the other commands start without the server's modules.
      const { runStart } = await import('../start-flow.ts');
      result.code = await runStart(dirOf(opts, ctx), overridesOf(opts), ctx, stop);
    } finally {
      stop.dispose();
    }
  });
  return cmd;
}
