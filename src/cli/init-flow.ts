/**
 * `chatroom init`: asks (or takes from flags) the few settings that matter, writes chatroom.yaml
 * from the commented template and secrets.json, prepares the database and prints the one-time
 * admin setup link and the equivalent one-line command. Also run by `start` when no config exists.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ChatroomError } from '../shared/errors.ts';
import { CONFIG_FLAGS, type Override } from '../config/flags.ts';
import { checkKeyValue, configPath, validate, type ConfigSource } from '../config/load.ts';
import { resolveConfig, type PartialConfig } from '../config/defaults.ts';
import { writeConfig } from '../config/write.ts';
import { loadOrCreateSecrets, secretsPath } from '../config/secrets.ts';
import { keyByName } from '../config/keys.ts';
import { baseUrl } from '../config/urls.ts';
import { printLanVariant } from './links.ts';
import { certNames, isLoopbackHost } from '../tls/addresses.ts';
import { ensureSelfSignedCert } from '../tls/selfsigned.ts';
import { certFilePaths, readCertFiles } from '../tls/files.ts';
import { openStore } from '../store/index.ts';
import { ensureSetupLink } from '../server/invites.ts';
import type { Config } from '../config/schema.ts';
import type { CliContext } from './context.ts';
import { durationInWords, paint, shellQuote } from './style.ts';

export interface InitOptions {
  /** Absolute folder for chatroom.yaml and all state. */
  dir: string;
  yes: boolean;
  force: boolean;
  overrides: Override[];
}

/** Runs init; resolves with the exit code. Throws ChatroomError USAGE / CONFIG_INVALID (exit 2). */
export async function runInit(opts: InitOptions, ctx: CliContext): Promise<number> {
  const p = paint(ctx);
  const out = (s = '') => ctx.stdout.write(s + '\n');
  const interactive = ctx.isTTY && !opts.yes;
  if (!ctx.isTTY && !opts.yes) {
    throw new ChatroomError(
      'USAGE',
      `chatroom init asks questions, but this is not a terminal. Pass --yes to use the flags and defaults without asking, e.g. chatroom init --yes --dir ${shellQuote(opts.dir)} --name 'Family chat'`,
    );
  }

  // Flags first: a bad flag fails before any question is asked.
  const given = new Map(opts.overrides.map((o) => [o.key, o]));
  const flagSource = (name: string): ConfigSource => {
    const o = given.get(name);
    return o ? { kind: 'flag', name: o.source } : { kind: 'flag', name: flagFor(name) };
  };
  const partial: Record<string, unknown> = {};
  for (const o of opts.overrides) setPath(partial, keyByName(o.key)!.path, coerceFlag(o));
  validate(structuredClone(partial), flagSource);

  const file = configPath(opts.dir);
  const existed = existsSync(file);
  if (existed && !opts.force) {
    if (!interactive) throw new ChatroomError('USAGE', `${file} already exists. Pass --force to overwrite it, or use another --dir.`);
    const { confirm } = await import('@inquirer/prompts');
    const overwrite = await confirm({ message: `${file} already exists. Overwrite it?`, default: false }, promptContext(ctx));
    if (!overwrite) {
      out('Left chatroom.yaml as it was.');
      return 1;
    }
  }

  if (interactive) await ask(partial, given, ctx);
  const config = validate(structuredClone(partial), flagSource);

  // files: the same checks start makes, before anything is written.
  const filePaths = certFilePaths(resolveConfig(config, opts.dir));
  const files = config.tls.mode === 'files' ? readCertFiles(filePaths.certPath, filePaths.keyPath) : null;

  mkdirSync(opts.dir, { recursive: true });
  writeConfig(opts.dir, partial as PartialConfig);
  const { created } = loadOrCreateSecrets(opts.dir);
  const resolved = resolveConfig(config, opts.dir);

  // Made now rather than at the first start, so the fingerprint can be noted down already.
  const cert = config.tls.mode === 'self-signed' ? await ensureSelfSignedCert({ dir: join(resolved.dataPath, 'tls'), ...certNames(config) }) : null;

  const store = await openStore(resolved);
  let setup: { url: string; expiresAt: number } | null;
  try {
    await store.migrate();
    setup = await ensureSetupLink(store, linkBase(config), config.inviteTtlHours, { fingerprint: cert?.fingerprint256 });
  } finally {
    await store.close();
  }

  out(`${p.green('✓')} Wrote ${file}`);
  if (created) out(`${p.green('✓')} Wrote ${secretsPath(opts.dir)} (server keys, readable only by you)`);
  out(`${p.green('✓')} Database ready in ${resolved.dataPath}`);
  if (cert) out(`${p.green('✓')} Self-signed certificate, SHA-256 fingerprint ${cert.fingerprint256}`);
  if (files) {
    out(`${p.green('✓')} Certificate ${files.certPath} matches its key, valid until ${new Date(files.facts.validTo).toISOString().slice(0, 10)}`);
    for (const w of files.warnings) out(`${p.yellow('!')} ${w}`);
  }
  if (config.tls.mode === 'acme') {
    out(`${p.green('✓')} A certificate for ${config.tls.domain} is ordered when the server starts (HTTP-01 on port ${config.httpPort}).`);
    out(p.dim(`  The certificate authority connects to http://${config.tls.domain}/ on port 80: forward port 80 to ${config.httpPort} on your router (chatroom asks it by UPnP when allowed).`));
  }
  out();
  if (setup) {
    out(`Admin setup link: ${setup.url}`);
    printLanVariant(config, setup.url, out);
    out(p.dim(`Open it to create the admin account. It works once and expires in ${durationInWords(setup.expiresAt - Date.now())}.`));
  } else {
    out(`An account already exists here: make invite links with ${p.bold(`chatroom invite --dir ${shellQuote(opts.dir)}`)}`);
  }
  out();
  out(`Start the server: ${p.bold(`chatroom start --dir ${shellQuote(opts.dir)}`)}`);
  out('The same setup without questions:');
  out(`  ${equivalentCommand(opts.dir, config, existed)}`);
  return 0;
}

/** The line `chatroom init --yes --dir … --name …` that reproduces this config. */
export function equivalentCommand(dir: string, c: Config, force: boolean): string {
  const always = new Set(['name', 'dataDir', 'port', 'host', 'tls.mode', 'upnp', 'registration', 'retentionDays']);
  const words = ['chatroom', 'init', '--yes', '--dir', dir];
  for (const f of CONFIG_FLAGS) {
    const key = keyByName(f.key)!;
    const value = getPath(c, key.path);
    if (!always.has(f.key) && JSON.stringify(value) === JSON.stringify(key.schema.default)) continue;
    const flag = f.spec.split(' ')[0];
    if (typeof value === 'boolean') words.push(value ? flag : `--no-${flag.slice(2)}`);
    else words.push(flag, String(value));
  }
  if (force) words.push('--force');
  return words.map(shellQuote).join(' ');
}

async function ask(partial: Record<string, unknown>, given: Map<string, Override>, ctx: CliContext): Promise<void> {
  // Loaded only when there is someone to ask: `init --yes` and `start` stay quick.
  const { confirm, input, select } = await import('@inquirer/prompts');
  const pc = promptContext(ctx);
  const has = (name: string) => given.has(name);
  const set = (name: string, v: unknown) => setPath(partial, keyByName(name)!.path, v);
  const get = (name: string): unknown => getPath(partial, keyByName(name)!.path) ?? keyByName(name)!.schema.default;
  const text = async (name: string, message: string) => {
    if (has(name)) return;
    const answer = await input(
      { message, default: String(get(name)), validate: (raw) => { const r = checkKeyValue(name, raw); return r.ok ? true : r.message; } },
      pc,
    );
    const r = checkKeyValue(name, answer);
    if (r.ok) set(name, r.value);
  };

  await text('name', 'Server name (shown in the browser)');
  await text('dataDir', 'Data directory (database, uploads, certificates; relative to the config folder)');
  await text('port', 'HTTPS port');
  await text('host', 'Bind address (0.0.0.0 = every network interface, 127.0.0.1 = this computer only)');
  if (!has('tls.mode')) {
    const loopback = isLoopbackHost(String(get('host')));
    const mode = await select(
      {
        message: 'HTTPS certificate',
        default: 'self-signed',
        choices: [
          { value: 'self-signed', name: 'self-signed', description: 'Made on this computer; guests confirm a browser warning once' },
          { value: 'off', name: 'off (plain HTTP)', description: 'Only for this computer', disabled: loopback ? false : '(only with bind address 127.0.0.1)' },
          { value: 'acme', name: "acme (Let's Encrypt)", description: 'A trusted certificate for a domain name that points at this computer; port 80 must reach it' },
          { value: 'files', name: 'files (your own certificate)', description: 'A certificate and key you already have (reloaded when the files change)' },
        ],
      },
      pc,
    );
    set('tls.mode', mode);
  }
  if (get('tls.mode') === 'acme') {
    await text('tls.domain', 'Domain name that points at this computer (e.g. chat.example.org)');
    await text('tls.acme.email', 'Email for expiry notices from the certificate authority (optional)');
  }
  if (get('tls.mode') === 'files') {
    await text('tls.certFile', 'Certificate file (PEM, full chain)');
    await text('tls.keyFile', 'Private key file (PEM, unencrypted)');
  }
  if (!has('upnp')) {
    const upnp = await confirm({ message: `Ask your router to forward port ${String(get('port'))} automatically (UPnP / NAT-PMP)?`, default: true }, pc);
    set('upnp', upnp);
  }
  if (!has('registration')) {
    const mode = await select(
      {
        message: 'Who can create an account?',
        default: 'invite',
        choices: [
          { value: 'invite', name: 'invite', description: 'Only people with an invite link' },
          { value: 'open', name: 'open', description: 'Anyone who can reach the server' },
          { value: 'closed', name: 'closed', description: 'Nobody new (besides the admin setup link)' },
        ],
      },
      pc,
    );
    set('registration', mode);
  }
  await text('retentionDays', 'Delete messages after how many days? (a number, or "forever")');
}

/** Links from init: with acme the certificate names only the domain, so links use it. */
function linkBase(c: Config): string {
  if (c.tls.mode !== 'acme' || c.publicUrl) return baseUrl(c);
  return `https://${c.tls.domain.toLowerCase()}${c.port === 443 ? '' : `:${c.port}`}`;
}

function promptContext(ctx: CliContext) {
  return { input: ctx.stdin, output: ctx.stdout };
}

function flagFor(name: string): string {
  return CONFIG_FLAGS.find((f) => f.key === name)?.spec.split(' ')[0] ?? name;
}

function coerceFlag(o: Override): unknown {
  if (typeof o.value !== 'string') return o.value;
  const r = checkKeyValue(o.key, o.value);
  return r.ok ? r.value : o.value;
}

function setPath(obj: Record<string, unknown>, path: string[], value: unknown): void {
  let o = obj;
  for (const k of path.slice(0, -1)) {
    if (!o[k] || typeof o[k] !== 'object') o[k] = {};
    o = o[k] as Record<string, unknown>;
  }
  o[path[path.length - 1]] = value;
}

function getPath(obj: unknown, path: string[]): unknown {
  let o = obj;
  for (const k of path) o = o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined;
  return o;
}
