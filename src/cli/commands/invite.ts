/** `chatroom invite`: a new one-time invite link, also while the server runs (SQLite WAL). */
import { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { addConfigFlags, addDirOption, dirOf, overridesOf } from './shared.ts';
import type { CommandResult } from './index.ts';

export function inviteCommand(ctx: CliContext, result: CommandResult): Command {
  const cmd = new Command('invite').description('Print a new one-time invite link');
  addDirOption(cmd);
  cmd.option('--server <id>', 'the invitee also joins this server (besides the default one)');
  // The link's address: pass the same ones `start` got, when they differ from chatroom.yaml.
  addConfigFlags(cmd, ['port', 'host', 'publicUrl', 'tls.mode']);
  cmd.action(async (opts: Record<string, unknown> & { dir?: string; server?: string }) => {
    const { runInvite } = await import('../invite-flow.ts');
    result.code = await runInvite(dirOf(opts, ctx), opts.server ?? null, ctx, overridesOf(opts));
  });
  return cmd;
}
