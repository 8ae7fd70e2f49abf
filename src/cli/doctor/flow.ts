/**
 * What `chatroom doctor` does: load the config (a bad one is exit 2, as for every command), run
 * every section with one context, print it (or one JSON document) and the verdict, then, with
 * --remote, the phone test. Exit 1 when any check failed.
 */
import { ChatroomError } from '../../shared/errors.ts';
import { loadConfig } from '../../config/load.ts';
import type { Override } from '../../config/flags.ts';
import type { CliContext } from '../context.ts';
import { paint } from '../style.ts';
import { checkGroups } from './groups.ts';
import { renderSection, renderVerdict } from './render.ts';
import { runDoctor, type GroupEntry } from './runner.ts';
import type { DoctorContext } from './types.ts';
import type { StopRequests } from '../stop.ts';

export interface DoctorOptions {
  json: boolean;
  /** Per-probe budget, ms. */
  timeoutMs: number;
  /** Run the phone test after the report. */
  remote: boolean;
  /** How long the phone test waits for the phone, ms. */
  remoteWaitMs: number;
  overrides?: Override[];
  /** The sections to run; the real registry by default (tests pass their own). */
  groups?: ReadonlyArray<GroupEntry>;
}

/** The registered sections named in `--only local,firewall` (report order kept); USAGE for an unknown name. */
export function selectGroups(only: string): ReadonlyArray<GroupEntry> {
  const names = only.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  const known = checkGroups.map((g) => g.section as string);
  const unknown = names.filter((n) => !known.includes(n));
  if (!names.length || unknown.length) {
    throw new ChatroomError('USAGE', `--only takes section names from: ${known.join(', ')} (got ${JSON.stringify(only)}), e.g. --only local,firewall`);
  }
  return checkGroups.filter((g) => names.includes(g.section));
}

/** Runs the doctor; resolves with the exit code. */
export async function runDoctorCommand(dir: string, opts: DoctorOptions, cli: CliContext, stop?: StopRequests): Promise<number> {
  const p = paint(cli);
  const { config, warnings } = loadConfig({ dir, env: cli.env, overrides: opts.overrides ?? [] });
  for (const w of warnings) cli.stderr.write(`${p.yellow('!')} ${w}\n`);
  const ctx: DoctorContext = { config, dir, env: cli.env, facts: {}, timeoutMs: opts.timeoutMs };

  const onSection = opts.json ? undefined : (section: Parameters<typeof renderSection>[0], checks: Parameters<typeof renderSection>[1]) => cli.stdout.write(renderSection(section, checks, p));
  const report = await runDoctor(ctx, opts.groups ?? checkGroups, onSection);
  if (opts.json) {
    cli.stdout.write(JSON.stringify(report, null, 2) + '\n');
    return report.ok ? 0 : 1;
  }
  cli.stdout.write(renderVerdict(report.verdict, p));
  if (!opts.remote) return report.ok ? 0 : 1;

  const { runRemoteCheck } = await import('./remote/session.ts');
  const remoteOk = await runRemoteCheck(ctx, cli, { waitMs: opts.remoteWaitMs, stop });
  return report.ok && remoteOk ? 0 : 1;
}
