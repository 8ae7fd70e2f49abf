/**
 * Runs the check groups in report order with one shared context. A group that throws becomes one
 * `fail` check `<section>.error` carrying the message, and the groups after it still run.
 */
import type { Check, CheckGroup, DoctorContext, DoctorReport, DoctorSection } from './types.ts';
import { decideVerdict } from './verdict.ts';

export interface GroupEntry {
  section: DoctorSection;
  run: CheckGroup;
}

/** Called once per finished group, so a terminal can print sections as they come in. */
export type OnSection = (section: DoctorSection, checks: Check[]) => void;

/** Every group's checks in order, then the verdict. */
export async function runDoctor(ctx: DoctorContext, groups: ReadonlyArray<GroupEntry>, onSection?: OnSection): Promise<DoctorReport> {
  const checks: Check[] = [];
  for (const group of groups) {
    let found: Check[];
    try {
      found = await group.run(ctx);
    } catch (err) {
      found = [groupError(group.section, err)];
    }
    checks.push(...found);
    onSection?.(group.section, found);
  }
  return { version: 1, checks, verdict: decideVerdict(ctx, checks), ok: !checks.some((c) => c.status === 'fail') };
}

function groupError(section: DoctorSection, err: unknown): Check {
  const message = err instanceof Error ? err.message : String(err);
  return {
    id: `${section}.error`,
    section,
    status: 'fail',
    title: `${section[0]!.toUpperCase()}${section.slice(1)} checks`,
    value: `stopped with an error: ${message}`,
    fix: ['This is a bug in chatroom doctor: please report it with the line above (it names no address or user).'],
  };
}
