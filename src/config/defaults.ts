/** Defaults and validation straight from the schema (no file, no env): used by load.ts and tests. */
import { Value } from '@sinclair/typebox/value';
import { resolve } from 'node:path';
import { ConfigSchema, type Config, type ResolvedConfig } from './schema.ts';

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? (T[K] extends unknown[] ? T[K] : DeepPartial<T[K]>) : T[K] };
export type PartialConfig = DeepPartial<Config>;

/** Fills defaults into a copy of `partial`; throws if the result does not match the schema. */
export function withDefaults(partial: PartialConfig = {}): Config {
  const value = Value.Default(ConfigSchema, structuredClone(partial)) as Config;
  if (!Value.Check(ConfigSchema, value)) {
    const first = [...Value.Errors(ConfigSchema, value)][0];
    throw new Error(`invalid config at ${first?.path}: ${first?.message}`);
  }
  return value;
}

/** Adds resolved paths and freezes: what buildApp and listen get. */
export function resolveConfig(config: Config, configDir: string): ResolvedConfig {
  const dir = resolve(configDir);
  return deepFreeze({ ...config, configDir: dir, dataPath: resolve(dir, config.dataDir) });
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
