/** `chatroom firewall`: the commands that let chatroom's ports through this computer's firewall (or another OS's). */
import { Command, Option } from 'commander';
import type { CliContext } from '../context.ts';
import { addDirOption, dirOf } from './shared.ts';
import type { CommandResult } from './index.ts';

export function firewallCommand(ctx: CliContext, result: CommandResult): Command {
  const cmd = new Command('firewall').description("Print the commands that open chatroom's ports in the host firewall");
  addDirOption(cmd);
  cmd.addOption(new Option('--os <name>', 'instructions for another system (default: this one)').choices(['windows', 'linux', 'macos']));
  cmd.action(async (opts: { dir?: string; os?: 'windows' | 'linux' | 'macos' }) => {
    const { runFirewall } = await import('../firewall/command.ts');
    result.code = await runFirewall(dirOf(opts, ctx), opts.os ?? null, ctx);
  });
  return cmd;
}
