/**
 * Renders templates/firewall/*.txt with our ports. Placeholders: {{https}}, {{http}}, {{ports}}
 * ("8443,8080"), {{ports_words}}, {{nft_ports}} ("{ 8443, 8080 }"). Line prefixes: `{{#http}}`
 * keeps the line only when there is an HTTP port; `{{fix}}` marks a command that opens the ports
 * (doctor prints those under a blocked-port check).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { templatesRoot } from '../../paths.ts';
import type { FirewallOs } from './index.ts';
import type { LinuxFirewallKind } from './detect.ts';

export interface FirewallPorts {
  https: number;
  http: number | null;
}

export const LINUX_KINDS: LinuxFirewallKind[] = ['ufw', 'firewalld', 'nftables', 'iptables'];

async function template(name: string): Promise<string> {
  return readFile(join(templatesRoot, 'firewall', name), 'utf8');
}

/** Fills one template. */
export function fill(text: string, ports: FirewallPorts, extra: Record<string, string> = {}): string {
  const list = ports.http ? [ports.https, ports.http] : [ports.https];
  const values: Record<string, string> = {
    https: String(ports.https),
    http: ports.http ? String(ports.http) : '',
    ports: list.join(','),
    ports_words: ports.http ? `ports ${ports.https} (HTTPS) and ${ports.http} (HTTP)` : `port ${ports.https} (HTTPS)`,
    nft_ports: list.length > 1 ? `{ ${list.join(', ')} }` : String(ports.https),
    ...extra,
  };
  const lines = parseLines(text).flatMap((line) => (line.httpOnly && !ports.http ? [] : [line.text]));
  return lines.join('\n').replace(/\{\{(\w+)\}\}/g, (whole, key: string) => values[key] ?? whole);
}

interface TemplateLine {
  text: string;
  httpOnly: boolean;
  fix: boolean;
}

function parseLines(text: string): TemplateLine[] {
  return text.split('\n').map((raw) => {
    let text = raw;
    const line = { text, httpOnly: false, fix: false };
    for (;;) {
      if (text.startsWith('{{#http}}')) line.httpOnly = true;
      else if (text.startsWith('{{fix}}')) line.fix = true;
      else break;
      text = text.slice(text.indexOf('}}') + 2);
    }
    line.text = text;
    return line;
  });
}

/** The commands that open the ports for `kind` ('ufw'…, or the OS for windows/macos), one per entry. */
export async function fixCommands(os: FirewallOs, ports: FirewallPorts, kind?: LinuxFirewallKind): Promise<string[]> {
  const name = os === 'linux' ? `linux-${kind ?? 'nftables'}.txt` : `${os}.txt`;
  const marked = parseLines(await template(name)).filter((l) => l.fix).map((l) => (l.httpOnly ? `{{#http}}${l.text}` : l.text));
  return fill(marked.join('\n'), ports).split('\n').map((l) => l.trim()).filter(Boolean);
}

/**
 * The instructions for `os`. For Linux, `linuxKind` is the firewall found active (only its
 * commands are shown), `null` when none was found, or 'unknown' when it could not be read.
 */
export async function renderFirewallInstructions(os: FirewallOs, ports: FirewallPorts, linuxKind: LinuxFirewallKind | null | 'unknown' = 'unknown'): Promise<string> {
  if (os !== 'linux') return fill(await template(`${os}.txt`), ports).trimEnd() + '\n';
  const kinds = linuxKind && linuxKind !== 'unknown' ? [linuxKind] : LINUX_KINDS;
  const sections = await Promise.all(kinds.map(async (k) => fill(await template(`linux-${k}.txt`), ports).trimEnd()));
  const detected =
    linuxKind === null
      ? 'no active firewall found (ufw, firewalld, nftables, iptables): nothing to open unless you run another one.'
      : linuxKind === 'unknown'
        ? 'could not tell which firewall is active (reading the rules needs root).'
        : `${linuxKind} is active.`;
  const lead =
    linuxKind === null
      ? 'If you turn one on later, let in TCP {{ports}} with it:'
      : linuxKind === 'unknown'
        ? 'Let in TCP {{ports}} with the one you use (usually only one is active):'
        : 'Let in TCP {{ports}} with it:';
  return fill(fill(await template('linux.txt'), ports, { detected, lead, sections: sections.join('\n\n') }), ports).trimEnd() + '\n';
}
