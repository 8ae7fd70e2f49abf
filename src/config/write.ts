/**
 * Writes chatroom.yaml from templates/config.yaml, so the file people open has every key with its
 * comment; only the values change (yaml's Document keeps comments through setIn).
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { templatesRoot } from '../paths.ts';
import { CONFIG_KEYS } from './keys.ts';
import { configPath } from './load.ts';
import type { PartialConfig } from './defaults.ts';

/** The commented template with `values` filled in, as YAML text. */
export function renderConfig(values: PartialConfig): string {
  const doc = parseDocument(readFileSync(join(templatesRoot, 'config.yaml'), 'utf8'));
  for (const key of CONFIG_KEYS) {
    const v = getPath(values, key.path);
    if (v !== undefined) doc.setIn(key.path, v);
  }
  return doc.toString({ lineWidth: 0 });
}

/** Writes `<dir>/chatroom.yaml` (atomically: a crash never leaves half a file). Returns its path. */
export function writeConfig(dir: string, values: PartialConfig): string {
  const file = configPath(dir);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, renderConfig(values), { mode: 0o644 });
  renameSync(tmp, file);
  return file;
}

function getPath(obj: unknown, path: string[]): unknown {
  let o = obj;
  for (const p of path) o = o && typeof o === 'object' ? (o as Record<string, unknown>)[p] : undefined;
  return o;
}
