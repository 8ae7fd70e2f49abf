// web-client/src/state/auth.ts: the sign-up password minimum (8 characters, counted as code points) and that register() refuses a short password before deriving or sending anything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PASSWORD_MIN_LENGTH, passwordProblem, register } from '../../web-client/src/state/auth.ts';

test('the minimum is 8 characters', () => {
  assert.equal(PASSWORD_MIN_LENGTH, 8);
  assert.equal(passwordProblem(''), 'Choose a password.');
  assert.match(passwordProblem('1234567') ?? '', /at least 8 characters/);
  assert.equal(passwordProblem('12345678'), null);
  assert.equal(passwordProblem('correct horse battery staple'), null);
});

test('characters are code points: 7 emoji are too short even though they are 14 UTF-16 units', () => {
  assert.notEqual(passwordProblem('🔑'.repeat(7)), null);
  assert.equal(passwordProblem('🔑'.repeat(8)), null);
});

test('register() rejects a short password without calling the server', async () => {
  const calls: string[] = [];
  const realFetch = globalThis.fetch;
  globalThis.fetch = (async (input: RequestInfo | URL) => {
    calls.push(String(input));
    throw new Error('no request expected');
  }) as typeof fetch;
  try {
    await assert.rejects(register('alice', 'short', 'token'), /at least 8 characters/);
  } finally {
    globalThis.fetch = realFetch;
  }
  assert.deepEqual(calls, []);
});
