// The init wizard's TLS questions in a real pseudo-terminal: acme asks the domain and an email, files asks the two paths and checks the pair before writing anything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { tempDir } from '../cli/helpers.ts';
import { noPty, runInPty } from '../cli/pty.ts';
import { opensslPair } from './helpers.ts';

const DOWN = '\x1b[B';
const FIRST = (certificate: Array<[string, string]>): Array<[string, string]> => [
  ['Server name', '\r'],
  ['Data directory', '\r'],
  ['HTTPS port', '\r'],
  // 0.0.0.0: "off" (second) is shown disabled; the cursor still stops on it.
  ['Bind address', '\r'],
  ...certificate,
  ['Ask your router', 'n\r'],
  ['Who can create an account', '\r'],
  ['Delete messages after', '\r'],
];

test('choosing acme asks for the domain and an email and writes them', { skip: noPty }, (t) => {
  const dir = join(tempDir(t), 'acme');
  const { code, output } = runInPty(['init', '--dir', dir], FIRST([
    ['HTTPS certificate', `${DOWN}${DOWN}\r`],
    ['Domain name that points at this computer', 'chat.example.org\r'],
    ['Email for expiry notices', 'me@example.org\r'],
  ]));
  assert.equal(code, 0, output);
  assert.doesNotMatch(output, /coming in a later version/);
  const c = parse(readFileSync(join(dir, 'chatroom.yaml'), 'utf8'));
  assert.deepEqual({ mode: c.tls.mode, domain: c.tls.domain, email: c.tls.acme?.email }, { mode: 'acme', domain: 'chat.example.org', email: 'me@example.org' });
  assert.match(output, /is ordered when the server starts/);
});

test('choosing files asks for the two paths; a key of another certificate is refused before anything is written', { skip: noPty }, (t) => {
  const base = tempDir(t);
  const a = opensslPair('a.example.org');
  const b = opensslPair('b.example.org');
  writeFileSync(join(base, 'a.crt'), a.cert);
  writeFileSync(join(base, 'a.key'), a.key);
  writeFileSync(join(base, 'b.key'), b.key);
  const files = (key: string): Array<[string, string]> => [
    ['HTTPS certificate', `${DOWN}${DOWN}${DOWN}\r`],
    ['Certificate file', `${join(base, 'a.crt')}\r`],
    ['Private key file', `${join(base, key)}\r`],
  ];

  const good = join(base, 'good');
  const ok = runInPty(['init', '--dir', good], FIRST(files('a.key')));
  assert.equal(ok.code, 0, ok.output);
  const c = parse(readFileSync(join(good, 'chatroom.yaml'), 'utf8'));
  assert.deepEqual({ mode: c.tls.mode, certFile: c.tls.certFile, keyFile: c.tls.keyFile }, { mode: 'files', certFile: join(base, 'a.crt'), keyFile: join(base, 'a.key') });
  assert.match(ok.output, /Certificate .*a\.crt matches its key, valid until/);

  const bad = join(base, 'bad');
  const refused = runInPty(['init', '--dir', bad], FIRST(files('b.key')));
  assert.equal(refused.code, 2, refused.output);
  assert.match(refused.output, /b\.key is not the private key of the certificate/);
  assert.ok(!existsSync(join(bad, 'chatroom.yaml')), 'nothing written');
});
