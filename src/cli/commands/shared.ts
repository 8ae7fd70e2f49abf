/** Option helpers every command uses: --dir, and the flags that set config keys. */
import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { CONFIG_FLAGS, overridesFromOptions, type Override } from '../../config/flags.ts';
import type { CliContext } from '../context.ts';

/** Adds `--dir <dir>` (default: the current folder). */
export function addDirOption(cmd: Command): Command {
  return cmd.option('--dir <dir>', 'folder with chatroom.yaml and all state (default: the current folder)');
}

/** The absolute --dir. */
export function dirOf(opts: { dir?: string }, ctx: CliContext): string {
  return resolve(ctx.cwd, opts.dir ?? '.');
}

/** Adds the config-key flags (only the listed keys, or all). */
export function addConfigFlags(cmd: Command, keys?: string[]): Command {
  for (const f of CONFIG_FLAGS) {
    if (keys && !keys.includes(f.key)) continue;
    cmd.addOption(new Option(f.spec, f.help));
    if (f.negatable) cmd.addOption(new Option(`--no-${f.spec.slice(2)}`, `the opposite of ${f.spec}`));
  }
  return cmd;
}

export function overridesOf(opts: Record<string, unknown>): Override[] {
  return overridesFromOptions(opts);
}
