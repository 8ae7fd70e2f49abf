/**
 * Reads `<dir>/chatroom.yaml`, applies `CHATROOM_*` variables and flags (flag > env > file >
 * default), validates against the schema and returns the frozen ResolvedConfig. Every problem is
 * a ChatroomError CONFIG_INVALID (or CONFIG_MISSING) that names the key, where it came from, the
 * bad value and a valid example.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { LineCounter, isMap, parseDocument, stringify } from 'yaml';
import { Value } from '@sinclair/typebox/value';
import { ChatroomError } from '../shared/errors.ts';
import { isLoopbackHost } from '../tls/addresses.ts';
import { ConfigSchema, type Config, type ResolvedConfig } from './schema.ts';
import { resolveConfig } from './defaults.ts';
import { CONFIG_KEYS, coerce, describeValid, exampleValue, isSection, keyByEnv, keyByName, sectionKeys, type ConfigKey } from './keys.ts';
import type { Override } from './flags.ts';

/** CHATROOM_* variables that are not config keys (the test suite's own switches). */
const NOT_CONFIG_ENV = new Set(['CHATROOM_TEST_STRICT', 'CHATROOM_TEST_PORTMAP_LEASE_SECONDS']);

export const CONFIG_FILE = 'chatroom.yaml';

export interface LoadOptions {
  /** Folder holding chatroom.yaml. */
  dir: string;
  /** Usually process.env; only CHATROOM_* names are read. */
  env?: Record<string, string | undefined>;
  /** From command-line flags; win over everything. */
  overrides?: Override[];
  /** When false, a missing file means "defaults only" instead of CONFIG_MISSING. */
  requireFile?: boolean;
}

export interface LoadedConfig {
  config: ResolvedConfig;
  /** Absolute path of chatroom.yaml. */
  file: string;
  /** Things worth telling the user that are not errors (e.g. an unknown CHATROOM_ variable). */
  warnings: string[];
}

/** Where a value came from: the file (with its line), an env variable or a flag. */
export type ConfigSource = { kind: 'file'; file: string; line?: number } | { kind: 'env'; name: string } | { kind: 'flag'; name: string };

/** The path of the config file in `dir`. */
export function configPath(dir: string): string {
  return join(resolve(dir), CONFIG_FILE);
}

export function configExists(dir: string): boolean {
  return existsSync(configPath(dir));
}

/** Loads, merges and validates; throws ChatroomError CONFIG_MISSING or CONFIG_INVALID. */
export function loadConfig(opts: LoadOptions): LoadedConfig {
  const file = configPath(opts.dir);
  const warnings: string[] = [];
  const sources = new Map<string, ConfigSource>();
  let merged: Record<string, unknown> = {};

  if (existsSync(file)) {
    merged = readFile(file, sources);
  } else if (opts.requireFile !== false) {
    throw new ChatroomError('CONFIG_MISSING', `No ${CONFIG_FILE} in ${resolve(opts.dir)}: run \`chatroom init --dir ${resolve(opts.dir)}\` first.`, { file });
  }

  for (const [name, raw] of Object.entries(opts.env ?? {})) {
    if (!name.startsWith('CHATROOM_') || raw === undefined || NOT_CONFIG_ENV.has(name)) continue;
    const key = keyByEnv(name);
    if (!key) {
      warnings.push(`Ignoring ${name}: no config key has that name.`);
      continue;
    }
    setPath(merged, key.path, coerce(key.schema, raw));
    sources.set(key.name, { kind: 'env', name });
  }

  for (const o of opts.overrides ?? []) {
    const key = keyByName(o.key);
    if (!key) throw new Error(`chatroom: flag ${o.source} maps to unknown key ${o.key}`);
    setPath(merged, key.path, typeof o.value === 'string' ? coerce(key.schema, o.value) : o.value);
    sources.set(key.name, { kind: 'flag', name: o.source });
  }

  const config = validate(merged, (name) => sources.get(name) ?? { kind: 'file', file });
  return { config: resolveConfig(config, opts.dir), file, warnings };
}

/**
 * Validates a partial config object (defaults filled in) with the same checks and wording as
 * loadConfig. `sourceOf` says where each key's value came from.
 */
export function validate(partial: Record<string, unknown>, sourceOf: (key: string) => ConfigSource): Config {
  rejectUnknownKeys(partial, [], sourceOf);
  const value = Value.Default(ConfigSchema, structuredClone(partial));
  const first = [...Value.Errors(ConfigSchema, value)][0];
  if (first) {
    const segments = first.path.split('/').filter(Boolean);
    // Errors inside a list point at an item (/allowedOrigins/0): report the key itself.
    while (segments.length && !keyByName(segments.join('.')) && !isSection(segments)) segments.pop();
    const name = segments.join('.');
    const key = keyByName(name);
    const got = getPath(value, segments);
    if (!key) throw sectionError(name, got, sourceOf(name));
    throw invalid(key, got, sourceOf(name));
  }
  const config = value as Config;
  checkCombinations(config, sourceOf);
  return config;
}

/** A CONFIG_INVALID error worded the way every config error is. */
export function invalid(key: ConfigKey, got: unknown, source: ConfigSource, reason?: string): ChatroomError {
  const why = reason ?? `must be ${describeValid(key)}`;
  return new ChatroomError(
    'CONFIG_INVALID',
    `${where(source)}: \`${key.name}\` ${why} (got ${JSON.stringify(got) ?? 'nothing'}), e.g. ${example(key, source)}`,
    { key: key.name, source: sourceName(source) },
  );
}

function readFile(file: string, sources: Map<string, ConfigSource>): Record<string, unknown> {
  const text = readFileSync(file, 'utf8');
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const err = doc.errors[0];
  if (err) {
    const { line, col } = lineCounter.linePos(err.pos[0]);
    const what = err.message.split('\n')[0].replace(/ at line \d+, column \d+.*$/, '');
    throw new ChatroomError(
      'CONFIG_INVALID',
      `${file} line ${line}, column ${col}: this is not valid YAML (${what}). Check the indentation and quoting there; a valid line looks like: port: 8443`,
      { line, source: file },
    );
  }
  if (doc.contents === null) return {};
  if (!isMap(doc.contents)) {
    throw new ChatroomError('CONFIG_INVALID', `${file}: the file must be a list of \`key: value\` lines, e.g. port: 8443`, { source: file });
  }
  const lineOf = (path: string[]): number | undefined => {
    const node = doc.getIn(path, true) as { range?: [number, number, number] } | undefined;
    return node?.range ? lineCounter.linePos(node.range[0]).line : undefined;
  };
  for (const key of CONFIG_KEYS) {
    if (doc.hasIn(key.path)) sources.set(key.name, { kind: 'file', file, line: lineOf(key.path) });
  }
  // Unknown keys and sections need a line too.
  const js = doc.toJS() as Record<string, unknown>;
  walk(js, [], (path) => {
    const name = path.join('.');
    if (!sources.has(name)) sources.set(name, { kind: 'file', file, line: lineOf(path) });
  });
  return js;
}

function rejectUnknownKeys(obj: Record<string, unknown>, path: string[], sourceOf: (key: string) => ConfigSource): void {
  const allowed = sectionKeys(path);
  for (const [k, v] of Object.entries(obj)) {
    const here = [...path, k];
    if (!allowed.includes(k)) {
      const name = here.join('.');
      const hint = closest(k, allowed);
      const section = path.length ? ` under \`${path.join('.')}\`` : '';
      throw new ChatroomError(
        'CONFIG_INVALID',
        `${where(sourceOf(name))}: unknown key \`${name}\`${section}${hint ? ` (did you mean \`${[...path, hint].join('.')}\`?)` : ''}. Valid keys here: ${allowed.join(', ')}`,
        { key: name, source: sourceName(sourceOf(name)) },
      );
    }
    if (isSection(here) && v && typeof v === 'object' && !Array.isArray(v)) rejectUnknownKeys(v as Record<string, unknown>, here, sourceOf);
  }
}

function checkCombinations(c: Config, sourceOf: (key: string) => ConfigSource): void {
  const key = (name: string) => keyByName(name)!;
  if (!(isIP(c.host) || c.host === 'localhost')) {
    throw invalid(key('host'), c.host, sourceOf('host'));
  }
  if (c.tls.mode === 'off' && !isLoopbackHost(c.host) && !c.behindProxy) {
    throw new ChatroomError(
      'CONFIG_INVALID',
      `${where(sourceOf('tls.mode'))}: \`tls.mode\` is off but \`host\` is ${JSON.stringify(c.host)}: browsers allow plain HTTP only on this computer. ` +
        'Use tls.mode: self-signed, or host: 127.0.0.1, or behindProxy: true when a reverse proxy adds HTTPS.',
      { key: 'tls.mode', source: sourceName(sourceOf('tls.mode')) },
    );
  }
  if (c.publicUrl) {
    let url: URL | null = null;
    try {
      url = new URL(c.publicUrl);
    } catch {
      url = null;
    }
    const okProtocol = url?.protocol === 'https:' || (url?.protocol === 'http:' && c.tls.mode === 'off');
    if (!url || !okProtocol || (url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) {
      throw invalid(key('publicUrl'), c.publicUrl, sourceOf('publicUrl'));
    }
  }
  checkTls(c, sourceOf);
  if (c.tls.mode === 'files') {
    for (const name of ['tls.certFile', 'tls.keyFile']) {
      const v = name === 'tls.certFile' ? c.tls.certFile : c.tls.keyFile;
      if (!v) throw invalid(key(name), v, sourceOf(name), 'must be set when tls.mode is files (both tls.certFile and tls.keyFile)');
    }
  }
}

/** The TLS rules the schema alone cannot say: what each tls.mode needs. */
function checkTls(c: Config, sourceOf: (key: string) => ConfigSource): void {
  const key = (name: string) => keyByName(name)!;
  if (c.tls.domain && !isDnsName(c.tls.domain)) {
    throw invalid(key('tls.domain'), c.tls.domain, sourceOf('tls.domain'), 'must be a DNS name such as chat.example.org (not an address or a URL)');
  }
  if (c.tls.mode === 'acme') {
    if (!c.tls.domain) {
      throw invalid(key('tls.domain'), c.tls.domain, sourceOf('tls.domain'), 'must be set when tls.mode is acme: the DNS name that points at this server');
    }
    if (!c.tls.domain.includes('.') || c.tls.domain.toLowerCase().endsWith('.local') || c.tls.domain.toLowerCase() === 'localhost') {
      throw invalid(key('tls.domain'), c.tls.domain, sourceOf('tls.domain'), 'must be a public DNS name for tls.mode acme (a certificate authority cannot reach .local or single-label names)');
    }
    if (c.httpPort === 0) {
      throw invalid(key('httpPort'), c.httpPort, sourceOf('httpPort'), 'cannot be 0 when tls.mode is acme: the certificate authority checks the domain through the HTTP port (HTTP-01)');
    }
    let url: URL | null = null;
    try {
      url = new URL(c.tls.acme.directoryUrl);
    } catch {
      url = null;
    }
    if (!url || url.protocol !== 'https:') {
      throw invalid(key('tls.acme.directoryUrl'), c.tls.acme.directoryUrl, sourceOf('tls.acme.directoryUrl'), "must be the https:// URL of the ACME directory (Let's Encrypt: https://acme-v02.api.letsencrypt.org/directory)");
    }
    if (c.tls.acme.email && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(c.tls.acme.email)) {
      throw invalid(key('tls.acme.email'), c.tls.acme.email, sourceOf('tls.acme.email'), 'must be an email address (the CA writes to it about expiring certificates), or empty');
    }
  }
  if (c.behindProxy) {
    for (const p of c.trustedProxies) {
      if (!isAddressOrCidr(p)) {
        throw invalid(key('trustedProxies'), c.trustedProxies, sourceOf('trustedProxies'), `must list proxy addresses or CIDR ranges (${JSON.stringify(p)} is neither)`);
      }
    }
  }
}

function isDnsName(name: string): boolean {
  return name.length <= 253 && !isIP(name) && /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*\.?$/.test(name);
}

function isAddressOrCidr(value: string): boolean {
  const [addr, bits, extra] = value.split('/');
  if (extra !== undefined) return false;
  const family = isIP(addr);
  if (!family) return false;
  if (bits === undefined) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}

function sectionError(name: string, got: unknown, source: ConfigSource): ChatroomError {
  const keys = sectionKeys(name ? name.split('.') : []);
  return new ChatroomError(
    'CONFIG_INVALID',
    `${where(source)}: \`${name}\` must be a section with the keys ${keys.join(', ')} (got ${JSON.stringify(got)}), e.g. ${name}: { ${keys[0]}: ${stringify(exampleValue(keyByName(`${name}.${keys[0]}`)!)).trim()} }`,
    { key: name, source: sourceName(source) },
  );
}

function where(s: ConfigSource): string {
  if (s.kind === 'file') return s.line ? `${s.file} line ${s.line}` : s.file;
  if (s.kind === 'env') return `environment variable ${s.name}`;
  return `flag ${s.name}`;
}

function sourceName(s: ConfigSource): string {
  return s.kind === 'file' ? 'file' : s.name;
}

function example(key: ConfigKey, s: ConfigSource): string {
  const v = exampleValue(key);
  if (s.kind === 'env') return `${key.env}=${Array.isArray(v) ? v.join(',') : String(v)}`;
  if (s.kind === 'flag') return `${s.name} ${Array.isArray(v) ? v.join(',') : String(v)}`;
  const flow = stringify(v, { collectionStyle: 'flow' }).trim();
  let line = `${key.path[key.path.length - 1]}: ${flow}`;
  for (const section of key.path.slice(0, -1).reverse()) line = `${section}: { ${line} }`;
  return line;
}

function setPath(obj: Record<string, unknown>, path: string[], value: unknown): void {
  let o = obj;
  for (const p of path.slice(0, -1)) {
    if (!o[p] || typeof o[p] !== 'object' || Array.isArray(o[p])) o[p] = {};
    o = o[p] as Record<string, unknown>;
  }
  o[path[path.length - 1]] = value;
}

function getPath(obj: unknown, path: string[]): unknown {
  let o = obj;
  for (const p of path) o = o && typeof o === 'object' ? (o as Record<string, unknown>)[p] : undefined;
  return o;
}

function walk(obj: unknown, path: string[], visit: (path: string[]) => void): void {
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) return;
  for (const [k, v] of Object.entries(obj)) {
    visit([...path, k]);
    walk(v, [...path, k], visit);
  }
}

/** The allowed key nearest to a typo (edit distance ≤ 2), or null. */
function closest(word: string, candidates: string[]): string | null {
  let best: string | null = null;
  let bestDistance = 3;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length];
}

/**
 * Checks one value typed at a prompt or given as a flag: the coerced value, or a message saying
 * what is valid (for @inquirer's `validate`).
 */
export function checkKeyValue(name: string, raw: string): { ok: true; value: unknown } | { ok: false; message: string } {
  const key = keyByName(name);
  if (!key) throw new Error(`chatroom: unknown config key ${name}`);
  const value = coerce(key.schema, raw.trim());
  const fits = Value.Check(key.schema, value) && (name !== 'host' || isIP(String(value)) > 0 || value === 'localhost');
  return fits ? { ok: true, value } : { ok: false, message: `Must be ${describeValid(key)}, e.g. ${String(exampleValue(key))}` };
}
