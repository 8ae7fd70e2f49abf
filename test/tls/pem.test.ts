// Certificate reading helpers: chain order (complete to a given root, missing intermediate, wrong order, self-signed leaf), key match, host coverage, and failure reasons without addresses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeChain, keyMatchesLeaf, leafCovers, splitPem } from '../../src/tls/pem.ts';
import { describeFailure } from '../../src/tls/acme.ts';
import { opensslPair, tempDir } from './helpers.ts';

/** root CA → intermediate CA → leaf for chain.home.test, made with openssl in `dir`. */
function threeLevels(dir: string): { root: string; intermediate: string; leaf: string; leafKey: string } {
  const o = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  writeFileSync(join(dir, 'ca.ext'), 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n');
  writeFileSync(join(dir, 'leaf.ext'), 'basicConstraints=CA:FALSE\nsubjectAltName=DNS:chain.home.test\n');
  o('req', '-x509', ...ec, '-days', '2', '-subj', '/CN=Test Root', '-keyout', 'root.key', '-out', 'root.pem');
  o('req', ...ec, '-subj', '/CN=Test Intermediate', '-keyout', 'int.key', '-out', 'int.csr');
  o('x509', '-req', '-in', 'int.csr', '-CA', 'root.pem', '-CAkey', 'root.key', '-CAcreateserial', '-days', '2', '-extfile', 'ca.ext', '-out', 'int.pem');
  o('req', ...ec, '-subj', '/CN=chain.home.test', '-keyout', 'leaf.key', '-out', 'leaf.csr');
  o('x509', '-req', '-in', 'leaf.csr', '-CA', 'int.pem', '-CAkey', 'int.key', '-CAcreateserial', '-days', '2', '-extfile', 'leaf.ext', '-out', 'leaf.pem');
  const read = (f: string) => readFileSync(join(dir, f), 'utf8');
  return { root: read('root.pem'), intermediate: read('int.pem'), leaf: read('leaf.pem'), leafKey: read('leaf.key') };
}

test('chains: complete to a trusted root, missing intermediate, wrong order, self-signed leaf', (t) => {
  const c = threeLevels(tempDir(t));
  const full = c.leaf + c.intermediate;
  assert.equal(splitPem(full).length, 2);
  assert.equal(describeChain(full, [c.root]).chainEnd, 'trusted-root');
  assert.equal(describeChain(full).chainEnd, 'unknown-issuer', 'a root this computer does not know');
  assert.equal(describeChain(c.leaf, [c.root]).chainEnd, 'unknown-issuer', 'the intermediate is missing');
  assert.equal(describeChain(c.intermediate + c.leaf, [c.root]).chainEnd, 'broken');
  assert.equal(describeChain(full + c.root).chainEnd, 'self-signed', 'the root included at the end');
  assert.equal(describeChain(opensslPair().cert).chainEnd, 'self-signed');
  const facts = describeChain(full);
  assert.deepEqual(facts.names, ['DNS:chain.home.test']);
  assert.equal(facts.chainLength, 2);
  assert.throws(() => describeChain('no certificate here'), /no PEM certificate/);
});

test('key match and host coverage look at the leaf', (t) => {
  const c = threeLevels(tempDir(t));
  assert.equal(keyMatchesLeaf(c.leaf + c.intermediate, c.leafKey), true);
  assert.equal(keyMatchesLeaf(c.leaf, opensslPair().key), false);
  assert.equal(keyMatchesLeaf(c.leaf, 'garbage'), false);
  assert.equal(leafCovers(c.leaf, 'chain.home.test'), true);
  assert.equal(leafCovers(c.leaf, 'other.home.test'), false);
  assert.equal(leafCovers(c.leaf, '127.0.0.1'), false);
});

test('failure reasons are one line, worded for people, and carry no addresses', () => {
  assert.equal(describeFailure(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:14000'), { code: 'ECONNREFUSED' })), 'the CA refused the connection (is tls.acme.directoryUrl right?)');
  assert.match(describeFailure(Object.assign(new Error('self-signed certificate'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' })), /not trusted .*tls\.acme\.caFile/);
  assert.match(describeFailure(new Error("Cannot read properties of undefined (reading 'config')")), /connection to the CA failed/);
  const reason = describeFailure(new Error('Fetching http://chat.example.org/.well-known/acme-challenge/x: 203.0.113.7: Connection refused; also [2001:db8::7] and fd00::1\nsecond line'));
  assert.equal(reason, 'Fetching http://chat.example.org/.well-known/acme-challenge/x: <address>: Connection refused; also <address> and <address>');
});
