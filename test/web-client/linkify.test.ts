// web-client/src/linkify.ts: only http(s) URLs become links (javascript:, data:, and other schemes stay text), text around them is kept, trailing punctuation is not part of the link.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { TemplateResult } from 'lit';
import { linkify, safeHref } from '../../web-client/src/linkify.ts';

type Part = string | TemplateResult;

/** A link part's [href, shown text], read from the Lit template's bound values. */
function linkOf(part: TemplateResult): { href: string; text: string } {
  assert.ok(part.strings.join('').includes('<a href='), 'a link template');
  assert.ok(part.strings.join('').includes('rel="noopener noreferrer"'), 'links do not hand over window.opener');
  const [href, text] = part.values as [string, string];
  return { href, text };
}

const links = (parts: Part[]) => parts.filter((p): p is TemplateResult => typeof p !== 'string').map(linkOf);
/** The text a reader sees: strings as they are, links by their shown text. */
const shown = (parts: Part[]) => parts.map((p) => (typeof p === 'string' ? p : linkOf(p).text)).join('');

test('http and https URLs become links; the surrounding text stays', () => {
  const parts = linkify('see https://example.org/a?b=1&c=2 and http://x.test/path, thanks');
  assert.deepEqual(links(parts), [
    { href: 'https://example.org/a?b=1&c=2', text: 'https://example.org/a?b=1&c=2' },
    { href: 'http://x.test/path', text: 'http://x.test/path' },
  ]);
  assert.equal(shown(parts), 'see https://example.org/a?b=1&c=2 and http://x.test/path, thanks');
});

test('trailing sentence punctuation is left outside the link', () => {
  for (const [input, url] of [['go to https://a.test.', 'https://a.test'], ['(https://a.test/x)', 'https://a.test/x'], ['https://a.test/?q=1!', 'https://a.test/?q=1']] as const) {
    const parts = linkify(input);
    assert.equal(links(parts)[0]?.text, url, input);
    assert.equal(shown(parts), input);
  }
});

test('javascript:, data:, vbscript:, file: and other schemes stay text', () => {
  const hostile = [
    'javascript:alert(1)',
    'JavaScript:alert(1)',
    '[click](javascript:alert(1))',
    'data:text/html,<script>alert(1)</script>',
    'data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==',
    'vbscript:msgbox(1)',
    'file:///etc/passwd',
    'ftp://example.org/x',
    '<a href="javascript:alert(1)">x</a>',
    'httpx://example.org',
    'https//missing-colon.test',
  ];
  for (const text of hostile) {
    const parts = linkify(text);
    assert.deepEqual(links(parts), [], text);
    assert.equal(shown(parts), text, 'the text is kept verbatim');
  }
});

test('a javascript: URL hidden after an http prefix does not produce a javascript: link', () => {
  const parts = linkify('https://ok.test/"javascript:alert(1)');
  for (const l of links(parts)) assert.match(l.href, /^https:\/\//);
});

test('safeHref: only http: and https: pass', () => {
  assert.equal(safeHref('https://example.org'), 'https://example.org/');
  assert.equal(safeHref('HTTP://EXAMPLE.org/A'), 'http://example.org/A');
  for (const bad of ['javascript:alert(1)', 'data:,x', 'blob:https://a.test/1', 'mailto:a@b.test', 'not a url', '']) {
    assert.equal(safeHref(bad), null, bad);
  }
});

test('every link is http(s) and no text is lost (property)', () => {
  const piece = fc.constantFrom('https://a.test/x', 'http://b.test', 'javascript:alert(1)', 'data:,x', ' ', '.', ')', 'word', '"', '<', 'é');
  fc.assert(fc.property(fc.array(piece, { maxLength: 20 }), (pieces) => {
    const text = pieces.join('');
    const parts = linkify(text);
    assert.equal(shown(parts), text);
    for (const l of links(parts)) assert.match(l.href, /^https?:\/\//);
  }));
});
