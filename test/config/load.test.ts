// Config loading: template = schema defaults, precedence flag > env > file > default, env/flag coercion, and every error naming the key, the value and an example.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync, chmodSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ChatroomError } from '../../src/shared/errors.ts';
import { loadConfig, checkKeyValue } from '../../src/config/load.ts';
import { renderConfig, writeConfig } from '../../src/config/write.ts';
import { withDefaults } from '../../src/config/defaults.ts';
import { CONFIG_KEYS } from '../../src/config/keys.ts';
import { loadOrCreateSecrets } from '../../src/config/secrets.ts';
import { CONFIG_FLAGS } from '../../src/config/flags.ts';
import type { TestContext } from 'node:test';

function dirWith(t: TestContext, yaml?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'chatroom-config-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  if (yaml !== undefined) writeFileSync(join(dir, 'chatroom.yaml'), yaml);
  return dir;
}

function configError(fn: () => unknown): ChatroomError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ChatroomError, `a ChatroomError, got ${err}`);
    return err;
  }
  assert.fail('expected an error');
}

test('templates/config.yaml lists every key with the schema default', () => {
  assert.deepEqual(parse(renderConfig({})), withDefaults({}));
  const text = renderConfig({});
  for (const key of CONFIG_KEYS) assert.match(text, new RegExp(`^\\s*${key.path[key.path.length - 1]}:`, 'm'), key.name);
});

test('each key has one CHATROOM_ variable; every flag maps to a real key', () => {
  const envs = CONFIG_KEYS.map((k) => k.env);
  assert.equal(new Set(envs).size, envs.length);
  assert.ok(envs.includes('CHATROOM_TLS_MODE'));
  assert.ok(envs.includes('CHATROOM_TLS_ACME_DIRECTORY_URL'));
  assert.ok(envs.includes('CHATROOM_RETENTION_DAYS'));
  const names = new Set(CONFIG_KEYS.map((k) => k.name));
  for (const f of CONFIG_FLAGS) assert.ok(names.has(f.key), f.spec);
});

test('precedence: flag > env > file > default', (t) => {
  const dir = dirWith(t, 'port: 9001\nname: from file\nhttpPort: 9080\n');
  const fileOnly = loadConfig({ dir }).config;
  assert.equal(fileOnly.port, 9001);
  assert.equal(fileOnly.name, 'from file');
  assert.equal(fileOnly.registration, 'invite', 'default');

  const env = { CHATROOM_PORT: '9002', CHATROOM_NAME: 'from env', CHATROOM_UPNP: 'no', CHATROOM_ALLOWED_ORIGINS: 'https://a.example, https://b.example', CHATROOM_RETENTION_DAYS: 'forever' };
  const withEnv = loadConfig({ dir, env }).config;
  assert.equal(withEnv.port, 9002);
  assert.equal(withEnv.name, 'from env');
  assert.equal(withEnv.upnp, false);
  assert.deepEqual(withEnv.allowedOrigins, ['https://a.example', 'https://b.example']);
  assert.equal(withEnv.retentionDays, 'forever');
  assert.equal(withEnv.httpPort, 9080, 'the file still counts where env is silent');

  const withFlag = loadConfig({ dir, env, overrides: [{ key: 'port', source: '--port', value: '9003' }, { key: 'tls.mode', source: '--tls', value: 'self-signed' }] }).config;
  assert.equal(withFlag.port, 9003);
  assert.equal(withFlag.name, 'from env');
  assert.ok(Object.isFrozen(withFlag) && Object.isFrozen(withFlag.tls), 'the server gets a frozen config');
  assert.equal(withFlag.dataPath, dir);
});

test('an unknown CHATROOM_ variable is a warning, not silence', (t) => {
  const { warnings } = loadConfig({ dir: dirWith(t, ''), env: { CHATROOM_PROT: '1', HOME: '/x', CHATROOM_TEST_STRICT: '1' } });
  assert.deepEqual(warnings, ['Ignoring CHATROOM_PROT: no config key has that name.']);
});

test('a missing file is CONFIG_MISSING naming chatroom init', (t) => {
  const err = configError(() => loadConfig({ dir: dirWith(t) }));
  assert.equal(err.code, 'CONFIG_MISSING');
  assert.match(err.message, /chatroom init/);
});

test('every invalid value names the key, where it came from, the value and an example', (t) => {
  const cases: Array<{ yaml: string; key: string; message: RegExp }> = [
    { yaml: 'port: not-a-port\n', key: 'port', message: /chatroom\.yaml line 1: `port` must be a whole number from 1 to 65535 \(got "not-a-port"\), e\.g\. port: 8443$/ },
    { yaml: 'name: x\nhttpPort: 70000\n', key: 'httpPort', message: /line 2: `httpPort` must be .*\(got 70000\), e\.g\. httpPort: 8080/ },
    { yaml: 'tls:\n  mode: offf\n', key: 'tls.mode', message: /line 2: `tls\.mode` must be one of self-signed, acme, files, off \(got "offf"\), e\.g\. tls: \{ mode: self-signed \}/ },
    { yaml: 'tls: plain\n', key: 'tls', message: /`tls` must be a section with the keys mode, domain/ },
    { yaml: 'retentionDays: 0\n', key: 'retentionDays', message: /`retentionDays` must be a whole number of days from 1 to 36500, or forever \(got 0\)/ },
    { yaml: 'upnp: maybe\n', key: 'upnp', message: /`upnp` must be true or false \(got "maybe"\), e\.g\. upnp: true/ },
    { yaml: 'limits:\n  maxFrameBytes: 10\n', key: 'limits.maxFrameBytes', message: /`limits\.maxFrameBytes` must be a whole number of at least 1024 \(got 10\), e\.g\. limits: \{ maxFrameBytes: 131072 \}/ },
    { yaml: 'allowedOrigins: [1, 2]\n', key: 'allowedOrigins', message: /`allowedOrigins` must be a list of text values/ },
    { yaml: 'registration: everyone\n', key: 'registration', message: /`registration` must be one of invite, open, closed \(got "everyone"\)/ },
    { yaml: 'host: my box\n', key: 'host', message: /`host` must be an IP address/ },
    { yaml: 'publicUrl: chat.example.org\n', key: 'publicUrl', message: /`publicUrl` must be an https:\/\/ address.*e\.g\. publicUrl: https:\/\/chat\.example\.org/ },
    { yaml: 'tls:\n  mode: acme\n', key: 'tls.domain', message: /`tls\.domain` must be set when tls\.mode is acme/ },
    { yaml: 'tls:\n  mode: files\n  certFile: /x.crt\n', key: 'tls.keyFile', message: /`tls\.keyFile` must be set when tls\.mode is files/ },
    { yaml: 'prot: 8443\n', key: 'prot', message: /line 1: unknown key `prot` \(did you mean `port`\?\)\. Valid keys here: name, dataDir/ },
    { yaml: 'tls:\n  acme:\n    directoryURL: x\n', key: 'tls.acme.directoryURL', message: /line 3: unknown key `tls\.acme\.directoryURL` under `tls\.acme` \(did you mean `tls\.acme\.directoryUrl`\?\)/ },
  ];
  for (const c of cases) {
    const err = configError(() => loadConfig({ dir: dirWith(t, c.yaml) }));
    assert.equal(err.code, 'CONFIG_INVALID', c.yaml);
    assert.equal(err.details.key, c.key, c.yaml);
    assert.match(err.message, c.message, c.yaml);
  }
});

test('env and flag errors name the variable or the flag, with an example in that form', (t) => {
  const dir = dirWith(t, 'port: 9000\n');
  const envErr = configError(() => loadConfig({ dir, env: { CHATROOM_PORT: 'eighty' } }));
  assert.equal(envErr.details.key, 'port');
  assert.match(envErr.message, /^environment variable CHATROOM_PORT: `port` must be a whole number from 1 to 65535 \(got "eighty"\), e\.g\. CHATROOM_PORT=8443$/);
  const flagErr = configError(() => loadConfig({ dir, overrides: [{ key: 'retentionDays', source: '--retention', value: 'never' }] }));
  assert.equal(flagErr.details.key, 'retentionDays');
  assert.match(flagErr.message, /^flag --retention: `retentionDays` .*\(got "never"\), e\.g\. --retention 90$/);
});

test('tls off is refused with a non-loopback host unless behind a proxy', (t) => {
  const err = configError(() => loadConfig({ dir: dirWith(t, 'host: 0.0.0.0\ntls:\n  mode: off\n') }));
  assert.equal(err.details.key, 'tls.mode');
  assert.match(err.message, /line 3: `tls\.mode` is off but `host` is "0\.0\.0\.0"/);
  assert.equal(loadConfig({ dir: dirWith(t, 'host: 127.0.0.1\ntls:\n  mode: off\n') }).config.tls.mode, 'off');
  assert.equal(loadConfig({ dir: dirWith(t, 'host: ::1\ntls:\n  mode: off\n') }).config.tls.mode, 'off');
  assert.equal(loadConfig({ dir: dirWith(t, 'host: 0.0.0.0\nbehindProxy: true\ntls:\n  mode: off\n') }).config.tls.mode, 'off');
});

test('YAML syntax errors name the line', (t) => {
  const err = configError(() => loadConfig({ dir: dirWith(t, 'name: ok\n\tport: 8443\n') }));
  assert.equal(err.code, 'CONFIG_INVALID');
  assert.match(err.message, /chatroom\.yaml line 2, column 1: this is not valid YAML \(Tabs are not allowed as indentation\)/);
  const nested = configError(() => loadConfig({ dir: dirWith(t, 'name: ok\ntls:\n mode: off\n  domain: x\n') }));
  assert.match(nested.message, /line 3, column \d+: this is not valid YAML/);
  const dup = configError(() => loadConfig({ dir: dirWith(t, 'port: 1\nport: 2\n') }));
  assert.match(dup.message, /line 2, column 1: this is not valid YAML \(Map keys must be unique\)/);
  const list = configError(() => loadConfig({ dir: dirWith(t, '- port\n') }));
  assert.match(list.message, /must be a list of `key: value` lines/);
});

test('writeConfig keeps comments and round-trips values', (t) => {
  const dir = dirWith(t);
  writeConfig(dir, { name: 'Round trip', port: 9443, tls: { mode: 'off' }, host: '127.0.0.1', retentionDays: 'forever' });
  const text = readFileSync(join(dir, 'chatroom.yaml'), 'utf8');
  assert.match(text, /# HTTPS port/);
  const c = loadConfig({ dir }).config;
  assert.equal(c.name, 'Round trip');
  assert.equal(c.port, 9443);
  assert.equal(c.tls.mode, 'off');
  assert.equal(c.retentionDays, 'forever');
});

test('checkKeyValue validates prompt answers with the same words', () => {
  assert.deepEqual(checkKeyValue('port', ' 8443 '), { ok: true, value: 8443 });
  assert.deepEqual(checkKeyValue('retentionDays', 'forever'), { ok: true, value: 'forever' });
  const bad = checkKeyValue('port', 'x');
  assert.equal(bad.ok, false);
  assert.match((bad as { message: string }).message, /whole number from 1 to 65535, e\.g\. 8443/);
  assert.equal(checkKeyValue('host', 'not a host').ok, false);
});

test('secrets.json is created 0600, reused, tightened, and a damaged one is a clear error', (t) => {
  const dir = dirWith(t);
  const first = loadOrCreateSecrets(dir);
  assert.equal(first.created, true);
  assert.equal(statSync(join(dir, 'secrets.json')).mode & 0o777, 0o600);
  const again = loadOrCreateSecrets(dir);
  assert.equal(again.created, false);
  assert.deepEqual(again.secrets, first.secrets);
  chmodSync(join(dir, 'secrets.json'), 0o644);
  loadOrCreateSecrets(dir);
  assert.equal(statSync(join(dir, 'secrets.json')).mode & 0o777, 0o600);
  writeFileSync(join(dir, 'secrets.json'), '{"saltKey": "short"}');
  const err = configError(() => loadOrCreateSecrets(dir));
  assert.equal(err.code, 'CONFIG_INVALID');
  assert.match(err.message, /secrets\.json is damaged/);
});

test('docs/CONFIG.md lists every key and variable; docs/CLI.md every flag', () => {
  const root = join(import.meta.dirname, '..', '..');
  const config = readFileSync(join(root, 'docs', 'CONFIG.md'), 'utf8');
  for (const k of CONFIG_KEYS) {
    assert.ok(config.includes(`\`${k.name}\``), k.name);
    assert.ok(config.includes(`\`${k.env}\``), k.env);
  }
  const cli = readFileSync(join(root, 'docs', 'CLI.md'), 'utf8');
  for (const f of CONFIG_FLAGS) assert.ok(cli.includes(`\`${f.spec}`), f.spec);
});
