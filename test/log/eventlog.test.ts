// The operational log: allow-listed event codes only, and no field that could identify a person (addresses, names, free text).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEventLog } from '../../src/log/eventlog.ts';

function capture() {
  const lines: string[] = [];
  const log = createEventLog({ write: (l) => lines.push(l), now: () => Date.UTC(2026, 0, 2, 3, 4, 5) });
  return { log, lines };
}

test('an allow-listed event is one line: time, code, safe fields', () => {
  const { log, lines } = capture();
  log.event('server.listening', { port: 8443, mode: 'self-signed', tls: true });
  assert.deepEqual(lines, ['2026-01-02T03:04:05.000Z server.listening port=8443 mode=self-signed tls=true\n']);
});

test('identifying strings never reach the log', () => {
  const { log, lines } = capture();
  log.event('auth.login_failed', { ip: '192.168.1.20', username: 'alice', reason: 'bad_password', userAgent: 'Mozilla/5.0', mode: '10.0.0.1', code: 'fe80::1', kind: 'a b c' });
  assert.equal(lines.length, 1);
  assert.equal(lines[0], '2026-01-02T03:04:05.000Z auth.login_failed reason=bad_password\n');
});

test('codes outside the allow-list are replaced, with their fields dropped', () => {
  const { log, lines } = capture();
  log.event('request GET /api/me from 10.0.0.1', { port: 1 });
  log.event('debug.anything', { port: 1 });
  assert.deepEqual(lines, ['2026-01-02T03:04:05.000Z log.unlisted_event\n', '2026-01-02T03:04:05.000Z log.unlisted_event\n']);
});
