/**
 * The config schema seen as a flat list of keys (`tls.mode`, `limits.maxFrameBytes`), each with
 * its environment variable, a plain-words description of valid values and an example. load.ts uses
 * it to read env, coerce strings and word errors; docs/CONFIG.md lists the same keys.
 */
import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ConfigSchema } from './schema.ts';

export interface ConfigKey {
  /** e.g. ['tls', 'mode']. */
  path: string[];
  /** e.g. 'tls.mode'. */
  name: string;
  /** e.g. 'CHATROOM_TLS_MODE'. */
  env: string;
  schema: TSchema;
}

/** Valid-value wording that reads better than what the schema alone gives. */
const DESCRIPTIONS: Record<string, string> = {
  port: 'a whole number from 1 to 65535',
  httpPort: 'a whole number from 1 to 65535, or 0 to turn the HTTP port off',
  retentionDays: 'a whole number of days from 1 to 36500, or forever',
  host: 'an IP address to listen on, such as 0.0.0.0 (all IPv4), :: (all) or 127.0.0.1 (this computer only)',
  publicUrl: 'an https:// address without a path, or empty',
};

/** Examples for keys whose default is empty or not a good illustration. */
const EXAMPLES: Record<string, unknown> = {
  publicUrl: 'https://chat.example.org',
  allowedOrigins: ['https://chat.example.org'],
  'tls.domain': 'chat.example.org',
  'tls.certFile': '/etc/ssl/chat.example.org.crt',
  'tls.keyFile': '/etc/ssl/chat.example.org.key',
  'tls.acme.email': 'you@example.org',
  name: 'Family chat',
};

/** Every leaf key of the schema, in schema order. */
export const CONFIG_KEYS: ConfigKey[] = collect(ConfigSchema, []);

const BY_NAME = new Map(CONFIG_KEYS.map((k) => [k.name, k]));
const BY_ENV = new Map(CONFIG_KEYS.map((k) => [k.env, k]));

export function keyByName(name: string): ConfigKey | undefined {
  return BY_NAME.get(name);
}

export function keyByEnv(env: string): ConfigKey | undefined {
  return BY_ENV.get(env);
}

/** `tls.acme.directoryUrl` → `CHATROOM_TLS_ACME_DIRECTORY_URL`. */
export function envName(path: string[]): string {
  return 'CHATROOM_' + path.map((p) => p.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_');
}

/** The names of the keys directly inside a section ([] = top level), for "valid keys" hints. */
export function sectionKeys(path: string[]): string[] {
  let s: TSchema | undefined = ConfigSchema;
  for (const p of path) s = (s?.properties as Record<string, TSchema> | undefined)?.[p];
  return Object.keys((s?.properties as Record<string, TSchema> | undefined) ?? {});
}

/** True when `path` names a section (an object), not a leaf. */
export function isSection(path: string[]): boolean {
  let s: TSchema | undefined = ConfigSchema;
  for (const p of path) s = (s?.properties as Record<string, TSchema> | undefined)?.[p];
  return s?.type === 'object';
}

/** "a whole number from 1 to 65535", "one of invite, open, closed", … */
export function describeValid(key: ConfigKey): string {
  return DESCRIPTIONS[key.name] ?? describeSchema(key.schema);
}

/** A valid value for the key: the default unless that is empty. */
export function exampleValue(key: ConfigKey): unknown {
  if (key.name in EXAMPLES) return EXAMPLES[key.name];
  return key.schema.default;
}

/**
 * Turns a string from an env variable or a flag into the key's type: integers, booleans
 * (true/false/yes/no/on/off/1/0), comma-separated lists. Left as a string when it does not fit, so
 * validation reports the original text.
 */
export function coerce(schema: TSchema, raw: string): unknown {
  if (schema.anyOf) {
    for (const variant of schema.anyOf as TSchema[]) {
      const v = coerce(variant, raw);
      if (Value.Check(variant, v)) return v;
    }
    return raw;
  }
  if ('const' in schema) return typeof schema.const === 'number' && String(schema.const) === raw.trim() ? schema.const : raw;
  switch (schema.type) {
    case 'integer':
    case 'number':
      return /^-?\d+(\.\d+)?$/.test(raw.trim()) ? Number(raw.trim()) : raw;
    case 'boolean': {
      const t = raw.trim().toLowerCase();
      if (['true', 'yes', 'on', '1'].includes(t)) return true;
      if (['false', 'no', 'off', '0'].includes(t)) return false;
      return raw;
    }
    case 'array':
      return raw.split(',').map((s) => s.trim()).filter(Boolean);
    default:
      return raw;
  }
}

function collect(schema: TSchema, path: string[]): ConfigKey[] {
  if (schema.type === 'object' && schema.properties) {
    return Object.entries(schema.properties as Record<string, TSchema>).flatMap(([k, s]) => collect(s, [...path, k]));
  }
  return [{ path, name: path.join('.'), env: envName(path), schema }];
}

function describeSchema(schema: TSchema): string {
  if (schema.anyOf) {
    const variants = flattenUnion(schema);
    const literals = variants.filter((v) => 'const' in v).map((v) => String(v.const));
    const others = variants.filter((v) => !('const' in v)).map(describeSchema);
    const parts = [...others];
    if (literals.length) parts.push(literals.length === 1 ? literals[0] : `one of ${literals.join(', ')}`);
    return parts.join(', or ');
  }
  if ('const' in schema) return String(schema.const);
  switch (schema.type) {
    case 'integer': {
      const { minimum: min, maximum: max } = schema as { minimum?: number; maximum?: number };
      if (min !== undefined && max !== undefined) return `a whole number from ${min} to ${max}`;
      if (min !== undefined) return `a whole number of at least ${min}`;
      return 'a whole number';
    }
    case 'boolean':
      return 'true or false';
    case 'array':
      return 'a list of text values';
    case 'string': {
      const { minLength, maxLength } = schema as { minLength?: number; maxLength?: number };
      if (minLength && maxLength) return `text of ${minLength} to ${maxLength} characters`;
      if (minLength) return 'non-empty text';
      return 'text';
    }
    default:
      return 'a valid value';
  }
}

function flattenUnion(schema: TSchema): TSchema[] {
  return (schema.anyOf as TSchema[]).flatMap((v) => (v.anyOf ? flattenUnion(v) : [v]));
}
