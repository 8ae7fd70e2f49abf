/** `chatroom init`: the setup wizard (or, with --yes, its flags and defaults). */
import { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { addConfigFlags, addDirOption, dirOf, overridesOf } from './shared.ts';
import type { CommandResult } from './index.ts';

export function initCommand(ctx: CliContext, result: CommandResult): Command {
  const cmd = new Command('init').description('Create chatroom.yaml, secrets and the database, and print the admin setup link');
  addDirOption(cmd);
  addConfigFlags(cmd);
  cmd.option('-y, --yes', 'ask nothing: use the flags and defaults').option('--force', 'overwrite an existing chatroom.yaml');
  cmd.action(async (opts: Record<string, unknown>) => {
    const { runInit } = await import('../init-flow.ts');
    result.code = await runInit({ dir: dirOf(opts, ctx), yes: Boolean(opts.yes), force: Boolean(opts.force), overrides: overridesOf(opts) }, ctx);
  });
  return cmd;
}
