// Message content as a plain (unencrypted) body, decoded by crypto/content.ts (test/helpers/plain-body.ts): text survives encode → decode (any Unicode), and garbage decodes to `unknown` without throwing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeBody, encodeText } from '../helpers/plain-body.ts';
import { toBase64 } from '../../src/shared/base64.ts';

const utf8 = (s: string) => toBase64(new TextEncoder().encode(s));

test('text round-trips, including emoji, RTL, NUL and markup', () => {
  for (const text of ['', 'hello', 'héllo wörld', '👩‍👩‍👧 ok', 'مرحبا', 'a\u0000b', '<script>x</script>', 'line\nline']) {
    assert.deepEqual(decodeBody(encodeText(text)), { kind: 'text', text });
  }
});

test('any string round-trips (property)', () => {
  fc.assert(fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), (text) => {
    assert.deepEqual(decodeBody(encodeText(text)), { kind: 'text', text });
  }));
});

test('the body is base64 of UTF-8 JSON', () => {
  assert.equal(encodeText('hi'), utf8('{"kind":"text","text":"hi"}'));
});

test('garbage is unsupported, never an exception', () => {
  const garbage = [
    '',
    '!!! not base64 !!!',
    toBase64(new Uint8Array([0xff, 0x00, 0x7b])), // invalid UTF-8
    utf8('not json'),
    utf8('null'),
    utf8('42'),
    utf8('"text"'),
    utf8('[]'),
    utf8('{}'),
    utf8('{"kind":"text"}'),
    utf8('{"kind":"text","text":5}'),
    utf8('{"kind":"text","text":null}'),
    utf8('{"kind":"text","text":["a"]}'),
    utf8('{"kind":"reply","target":"nothex","text":"x"}'),
  ];
  for (const body of garbage) assert.deepEqual(decodeBody(body), { kind: 'unknown', type: '' }, `body ${JSON.stringify(body)}`);
});

test('random bytes never throw (property)', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
    const content = decodeBody(toBase64(bytes));
    assert.ok(content.kind === 'unknown' || (content.kind === 'text' && typeof content.text === 'string'));
  }));
  fc.assert(fc.property(fc.string({ maxLength: 64 }), (body) => {
    assert.doesNotThrow(() => decodeBody(body));
  }));
});

test('an attachment carries its placeholder colour only as #rrggbb', () => {
  const file = { blobId: 'b1', key: 'AAAA', noncePrefix: 'AAAA', sha256: 'AAAA', ciphertextBytes: 10, plaintextBytes: 1, mime: 'image/jpeg' };
  const ok = { kind: 'attachment', file, thumbnail: { ...file, blobId: 'b2', placeholder: '#1a2B3c' } } as const;
  assert.deepEqual(decodeBody(utf8(JSON.stringify(ok))), ok);
  for (const bad of ['red', '#12345', 'url(x)', '#1234567', 12]) {
    const body = utf8(JSON.stringify({ ...ok, thumbnail: { ...ok.thumbnail, placeholder: bad } }));
    assert.deepEqual(decodeBody(body), { kind: 'unknown', type: '' }, `placeholder ${JSON.stringify(bad)} is refused`);
  }
});
