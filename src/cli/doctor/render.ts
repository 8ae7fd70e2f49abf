/** The terminal report: a heading per section, one `✓ / ! / ✗  title  value` line per check, fixes indented under problems. */
import type { Paint } from '../style.ts';
import type { Check, DoctorSection, Verdict } from './types.ts';

export const SECTION_TITLES: Record<DoctorSection, string> = {
  local: 'Local',
  firewall: 'Firewall',
  router: 'Router',
  internet: 'Internet',
  tls: 'TLS',
  calls: 'Calls',
};

/** Width of the title column, characters. */
const TITLE_WIDTH = 20;

/** A section's heading and lines; nothing for a section with no checks. */
export function renderSection(section: DoctorSection, checks: Check[], p: Paint): string {
  if (!checks.length) return '';
  const lines = [p.bold(SECTION_TITLES[section])];
  for (const c of checks) {
    const mark = c.status === 'ok' ? p.green('✓') : c.status === 'warn' ? p.yellow('!') : p.red('✗');
    lines.push(`  ${mark} ${c.title.padEnd(TITLE_WIDTH)} ${c.value}`);
    if (c.status !== 'ok') for (const f of c.fix ?? []) lines.push(`      ${p.cyan(f)}`);
  }
  return lines.join('\n') + '\n';
}

export function renderVerdict(verdict: Verdict, p: Paint): string {
  const color = verdict.kind === 'internet' ? p.green : verdict.kind === 'lan' ? p.yellow : p.red;
  return `\n${p.bold(color(verdict.text))}\n`;
}
