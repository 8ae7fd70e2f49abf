// chatroom init: --yes without a TTY, flags written into the commented file, overwrite rules, bad flags, and the interactive wizard through a real pseudo-terminal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { runCli, tempDir } from './helpers.ts';
import { noPty, runInPty } from './pty.ts';

const SETUP_LINE = /^Admin setup link: (https?:\/\/\S+\/setup\/\S+)$/m;

test('init --yes without a TTY writes a commented chatroom.yaml, a 0600 secrets.json, the setup link and the equivalent command', async (t) => {
  const dir = join(tempDir(t), 'new', 'chat');
  const r = await runCli(t, ['init', '--yes', '--dir', dir, '--name', 'Family chat']);
  assert.equal(r.code, 0, r.stderr);
  const yaml = readFileSync(join(dir, 'chatroom.yaml'), 'utf8');
  assert.match(yaml, /^# .*chatroom/m, 'keeps the template comments');
  assert.match(yaml, /^  # self-signed: /m, 'keeps nested comments');
  assert.equal(parse(yaml).name, 'Family chat');
  assert.equal(statSync(join(dir, 'secrets.json')).mode & 0o777, 0o600);
  const secrets = JSON.parse(readFileSync(join(dir, 'secrets.json'), 'utf8'));
  assert.equal(Buffer.from(secrets.saltKey, 'base64').length, 32);
  assert.ok(existsSync(join(dir, 'chatroom.db')), 'the database is created in the data directory');
  const fp = r.stdout.match(/Self-signed certificate, SHA-256 fingerprint ([0-9A-F:]{95})/);
  assert.ok(fp, 'init makes the certificate and shows its fingerprint');
  assert.equal(new X509Certificate(readFileSync(join(dir, 'tls', 'self-signed.crt'))).fingerprint256, fp[1]);

  const link = r.stdout.match(SETUP_LINE);
  assert.ok(link, `a setup link line in:\n${r.stdout}`);
  assert.match(link[1], /^https:\/\/localhost:8443\/setup\//);

  // The echoed command reproduces the same file.
  const line = r.stdout.split('\n').find((l) => l.trim().startsWith('chatroom init --yes'));
  assert.ok(line, 'the equivalent command is printed');
  const dir2 = join(tempDir(t), 'again');
  const words = [...line.trim().matchAll(/'((?:[^']|'\\'')*)'|(\S+)/g)].map((m) => (m[1] !== undefined ? m[1].replace(/'\\''/g, "'") : m[2]));
  const idx = words.indexOf('--dir');
  words[idx + 1] = dir2;
  const again = await runCli(t, words.slice(1));
  assert.equal(again.code, 0, again.stderr);
  assert.equal(readFileSync(join(dir2, 'chatroom.yaml'), 'utf8'), yaml);
});

test('init flags land in chatroom.yaml', async (t) => {
  const dir = tempDir(t);
  const r = await runCli(t, [
    'init', '--yes', '--dir', dir, '--name', 'Ops', '--port', '9443', '--http-port', '0', '--host', '127.0.0.1', '--tls', 'off',
    '--no-upnp', '--registration', 'open', '--retention', 'forever', '--data-dir', 'state',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const c = parse(readFileSync(join(dir, 'chatroom.yaml'), 'utf8'));
  assert.deepEqual(
    { name: c.name, port: c.port, httpPort: c.httpPort, host: c.host, tls: c.tls.mode, upnp: c.upnp, registration: c.registration, retentionDays: c.retentionDays, dataDir: c.dataDir },
    { name: 'Ops', port: 9443, httpPort: 0, host: '127.0.0.1', tls: 'off', upnp: false, registration: 'open', retentionDays: 'forever', dataDir: 'state' },
  );
  assert.ok(existsSync(join(dir, 'state', 'chatroom.db')));
  assert.match(r.stdout, /^Admin setup link: http:\/\/127\.0\.0\.1:9443\/setup\/\S+$/m);
});

test('an existing chatroom.yaml is kept unless --force', async (t) => {
  const dir = tempDir(t);
  assert.equal((await runCli(t, ['init', '--yes', '--dir', dir, '--name', 'first'])).code, 0);
  const refused = await runCli(t, ['init', '--yes', '--dir', dir, '--name', 'second']);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /USAGE/);
  assert.match(refused.stderr, /--force/);
  assert.equal(parse(readFileSync(join(dir, 'chatroom.yaml'), 'utf8')).name, 'first');
  const secretsBefore = readFileSync(join(dir, 'secrets.json'), 'utf8');

  const forced = await runCli(t, ['init', '--yes', '--force', '--dir', dir, '--name', 'second']);
  assert.equal(forced.code, 0, forced.stderr);
  assert.equal(parse(readFileSync(join(dir, 'chatroom.yaml'), 'utf8')).name, 'second');
  assert.equal(readFileSync(join(dir, 'secrets.json'), 'utf8'), secretsBefore, 'secrets survive a re-init');
});

test('bad flag values exit 2 naming the flag and the key, and write nothing', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [['--port', 'not-a-port'], /--port: `port` must be a whole number from 1 to 65535 \(got "not-a-port"\), e\.g\. --port 8443/],
    [['--registration', 'maybe'], /`registration`/],
    [['--retention', '-3'], /`retentionDays`/],
    [['--tls', 'off'], /`tls\.mode` is off but `host` is "0\.0\.0\.0"/],
    [['--tls', 'plain'], /`tls\.mode` must be one of self-signed, acme, files, off/],
    [['--host', 'not an address'], /`host`/],
  ];
  for (const [flags, message] of cases) {
    const dir = join(tempDir(t), 'x');
    const r = await runCli(t, ['init', '--yes', '--dir', dir, ...flags]);
    assert.equal(r.code, 2, `${flags.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /CONFIG_INVALID/);
    assert.match(r.stderr, message);
    assert.ok(!existsSync(join(dir, 'chatroom.yaml')), `${flags.join(' ')} wrote a config`);
  }
});

test('init without a TTY and without --yes exits 2 and says to pass --yes', async (t) => {
  const dir = tempDir(t);
  const r = await runCli(t, ['init', '--dir', dir]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--yes/);
  assert.ok(!existsSync(join(dir, 'chatroom.yaml')));
});

test('an unknown option is a usage error (exit 2)', async (t) => {
  const r = await runCli(t, ['init', '--yes', '--dir', tempDir(t), '--colour']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown option/);
});


const DOWN = '\x1b[B';

test('interactive init in a pseudo-terminal asks every question and writes the answers', { skip: noPty }, (t) => {
  const dir = join(tempDir(t), 'wizard');
  const { code, output } = runInPty(['init', '--dir', dir], [
    ['Server name', 'Pty chat\r'],
    ['Data directory', '\r'],
    ['HTTPS port', '9555\r'],
    ['Bind address', '127.0.0.1\r'],
    // Loopback bind: "off" (second) is offered; acme and files follow, disabled.
    ['HTTPS certificate', `${DOWN}\r`],
    ['Ask your router', 'n\r'],
    ['Who can create an account', `${DOWN}\r`],
    ['Delete messages after', '\x15' + '30\r'],
  ]);
  assert.equal(code, 0, output);
  const c = parse(readFileSync(join(dir, 'chatroom.yaml'), 'utf8'));
  assert.deepEqual(
    { name: c.name, dataDir: c.dataDir, port: c.port, host: c.host, tls: c.tls.mode, upnp: c.upnp, registration: c.registration, retentionDays: c.retentionDays },
    { name: 'Pty chat', dataDir: '.', port: 9555, host: '127.0.0.1', tls: 'off', upnp: false, registration: 'open', retentionDays: 30 },
  );
  assert.match(output, /Admin setup link: http:\/\/127\.0\.0\.1:9555\/setup\/\S+/);
  assert.match(output, /chatroom init --yes --dir \S+ --name 'Pty chat' .*--port 9555 --host 127\.0\.0\.1 --tls off --no-upnp --registration open --retention 30/);
});

test('interactive init asks before overwriting, and a "no" leaves the file alone', { skip: noPty }, (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'chatroom.yaml'), 'name: keep me\n');
  const { code, output } = runInPty(['init', '--dir', dir], [['Overwrite it?', 'n\r']]);
  assert.equal(code, 1, output);
  assert.equal(readFileSync(join(dir, 'chatroom.yaml'), 'utf8'), 'name: keep me\n');
});

test('start without a config on a terminal runs the wizard, then serves until Ctrl+C and exits 0', { skip: noPty }, (t) => {
  const dir = join(tempDir(t), 'first-run');
  const { code, output } = runInPty(['start', '--dir', dir, '--http-port', '0', '--no-upnp'], [
    ['Server name', '\r'],
    ['Data directory', '\r'],
    ['HTTPS port', '\x15' + '0\r'],
    ['Bind address', '\r'],
    ['HTTPS certificate', '\r'],
    ['Who can create an account', '\r'],
    ['Delete messages after', '\r'],
    ['Press Ctrl+C to stop', '\x03'],
  ]);
  assert.equal(code, 0, output);
  assert.match(output, /Local: +https:\/\/localhost:\d+/);
  assert.match(output, /Certificate SHA-256 fingerprint: [0-9A-F:]{95}/);
  assert.match(output, /Stopped\./);
  const c = parse(readFileSync(join(dir, 'chatroom.yaml'), 'utf8'));
  assert.equal(c.httpPort, 0, 'flags given to start are written by the wizard');
  assert.equal(c.upnp, false);
});
