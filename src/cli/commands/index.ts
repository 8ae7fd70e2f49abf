/** The one place commands are registered. */
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { initCommand } from './init.ts';
import { startCommand } from './start.ts';
import { inviteCommand } from './invite.ts';
import { doctorCommand } from './doctor.ts';
import { firewallCommand } from './firewall.ts';

/** Where a command's action leaves its exit code (commander ignores return values). */
export interface CommandResult {
  code: number;
}

export function registerCommands(program: Command, ctx: CliContext, result: CommandResult): void {
  for (const make of [initCommand, startCommand, inviteCommand, doctorCommand, firewallCommand]) {
    // Subcommands made with `new Command` inherit nothing by default: exitOverride and output must carry over.
    program.addCommand(make(ctx, result).copyInheritedSettings(program));
  }
}
