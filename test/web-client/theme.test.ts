// web-client/src/theme.ts and username-color.ts: dark unless Light (or Match system on a light system) is chosen, unknown stored values fall back to dark; username colours are stable and in range.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseThemeChoice, resolveTheme } from '../../web-client/src/theme.ts';
import { USERNAME_COLORS, usernameColorIndex } from '../../web-client/src/username-color.ts';

test('nothing stored, or anything unknown, means dark', () => {
  for (const v of [null, undefined, '', 'Light', 'auto', 'system ', 42, {}]) assert.equal(parseThemeChoice(v), 'dark', String(v));
  for (const v of ['dark', 'light', 'system'] as const) assert.equal(parseThemeChoice(v), v);
});

test('dark stays dark and light stays light whatever the system prefers; system follows it', () => {
  for (const prefersLight of [true, false]) {
    assert.equal(resolveTheme('dark', prefersLight), 'dark');
    assert.equal(resolveTheme('light', prefersLight), 'light');
  }
  assert.equal(resolveTheme('system', true), 'light');
  assert.equal(resolveTheme('system', false), 'dark');
});

test('username colours: stable, case-insensitive, always one of the tokens', () => {
  assert.equal(usernameColorIndex('alice'), usernameColorIndex('alice'));
  assert.equal(usernameColorIndex('Alice'), usernameColorIndex('alice'));
  fc.assert(fc.property(fc.string(), (name) => {
    const i = usernameColorIndex(name);
    assert.ok(Number.isInteger(i) && i >= 1 && i <= USERNAME_COLORS, `${i}`);
  }));
  const used = new Set(Array.from({ length: 60 }, (_, i) => usernameColorIndex(`user${i}`)));
  assert.equal(used.size, USERNAME_COLORS, 'sixty names use every colour');
});
