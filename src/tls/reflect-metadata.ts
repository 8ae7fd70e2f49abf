/**
 * The few Reflect metadata functions tsyringe (a dependency of @peculiar/x509) insists on at load
 * time. The `reflect-metadata` package is not a dependency of ours; this WeakMap version covers
 * what tsyringe calls. Import it before @peculiar/x509.
 */
type Target = object;
const store = new WeakMap<Target, Map<unknown, Map<unknown, unknown>>>();

function table(target: Target, property: unknown, create: boolean): Map<unknown, unknown> | undefined {
  let byProperty = store.get(target);
  if (!byProperty) {
    if (!create) return undefined;
    byProperty = new Map();
    store.set(target, byProperty);
  }
  let entries = byProperty.get(property);
  if (!entries && create) {
    entries = new Map();
    byProperty.set(property, entries);
  }
  return entries;
}

const R = Reflect as unknown as Record<string, unknown>;
if (typeof R.getMetadata !== 'function') {
  R.defineMetadata = (key: unknown, value: unknown, target: Target, property?: unknown) => {
    table(target, property, true)!.set(key, value);
  };
  R.getOwnMetadata = (key: unknown, target: Target, property?: unknown) => table(target, property, false)?.get(key);
  R.getMetadata = (key: unknown, target: Target, property?: unknown): unknown => {
    for (let t: Target | null = target; t; t = Object.getPrototypeOf(t)) {
      const v = table(t, property, false);
      if (v?.has(key)) return v.get(key);
    }
    return undefined;
  };
  R.hasMetadata = (key: unknown, target: Target, property?: unknown) => (R.getMetadata as (k: unknown, t: Target, p?: unknown) => unknown)(key, target, property) !== undefined;
  R.metadata = (key: unknown, value: unknown) => (target: Target, property?: unknown) => (R.defineMetadata as (k: unknown, v: unknown, t: Target, p?: unknown) => void)(key, value, target, property);
}

export {};
