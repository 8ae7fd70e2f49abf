/**
 * The chatroom CLI: `run(argv)` parses, runs one command and resolves with its exit code
 * (0 ok, 1 failure, 2 usage or config error). bin/chatroom.js is a shim around it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { ChatroomError, type ErrorCode } from '../shared/errors.ts';
import { packageRoot } from '../paths.ts';
import { processContext, type CliContext } from './context.ts';
import { registerCommands, type CommandResult } from './commands/index.ts';
import { paint } from './style.ts';

export type { CliContext } from './context.ts';

/** Error codes that mean "you asked for something wrong": exit 2. */
const USAGE_CODES: ReadonlySet<ErrorCode> = new Set(['CONFIG_MISSING', 'CONFIG_INVALID', 'USAGE', 'PORT_IN_USE', 'SCHEMA_TOO_NEW']);

/** Runs the CLI with `argv` as in process.argv (node, script, ...args). */
export async function run(argv: string[], ctx: Partial<CliContext> = {}): Promise<number> {
  const context = processContext(ctx);
  const p = paint(context);
  const result: CommandResult = { code: 0 };
  const program = new Command('chatroom')
    .description('Self-hosted, end-to-end encrypted chat you run from a home computer.')
    .version(version(), '-V, --version')
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({
      writeOut: (s) => context.stdout.write(s),
      writeErr: (s) => context.stderr.write(s),
      outputError: (s, write) => write(p.red(s)),
    });
  registerCommands(program, context, result);

  try {
    await program.parseAsync(argv, { from: 'node' });
    return result.code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version land here with exitCode 0; every other commander error is a usage error.
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof ChatroomError) {
      context.stderr.write(`${p.red('Error')} ${p.dim(`[${err.code}]`)} ${err.message}\n`);
      return USAGE_CODES.has(err.code) ? 2 : 1;
    }
    if (err instanceof Error && err.name === 'ExitPromptError') {
      context.stderr.write('Cancelled.\n');
      return 1;
    }
    // A bug, not a user mistake: the stack helps a bug report (it holds code paths, no user data).
    context.stderr.write(`${p.red('Error')} ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 1;
  }
}

function version(): string {
  try {
    return (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}
