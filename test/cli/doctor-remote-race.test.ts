// doctor --remote against a hostile or racing phone: two reports at once with one token count once (the other is 410), an aborted report gives the token back, and escape sequences or control characters in anything the phone sends never reach the terminal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request, type RequestOptions } from 'node:https';
import type { ClientRequest } from 'node:http';
import { join } from 'node:path';
import { describeReport } from '../../src/cli/doctor/remote/session.ts';
import { startRemoteServer, type PhoneReport } from '../../src/cli/doctor/remote/server.ts';
import { terminalSafe } from '../../src/cli/doctor/sanitize.ts';
import { ensureSelfSignedCert } from '../../src/tls/selfsigned.ts';
import { paint } from '../../src/cli/style.ts';
import { tempDir } from './helpers.ts';

const plain = paint({ color: false });
const TOKEN = 'abcdefghijklmnopqrstuv';
const GOOD = JSON.stringify({ secure: true, loadMs: 5, wsMs: 2, wsError: null } satisfies PhoneReport);

/** A token map that tells the test whenever the listener reads or changes it (so requests interleave without sleeps). */
class WatchedTokens extends Map<string, string> {
  private waiters: Array<() => void> = [];
  /** Lookups of the test token so far. */
  lookups = 0;
  private touch(key: string, lookup: boolean): void {
    if (key !== TOKEN || !this.waiters) return; // `waiters` is unset while Map's constructor calls set()
    if (lookup) this.lookups++;
    for (const w of this.waiters.splice(0)) w();
  }
  /** Resolves once `ready()` holds, checking after each read or change. */
  async until(ready: () => boolean): Promise<void> {
    while (!ready()) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }
  override get(key: string): string | undefined {
    this.touch(key, true);
    return super.get(key);
  }
  override delete(key: string): boolean {
    this.touch(key, true);
    return super.delete(key);
  }
  override set(key: string, value: string): this {
    super.set(key, value);
    this.touch(key, false);
    return this;
  }
}

/** Map.has without counting as a lookup. */
function holdsToken(tokens: WatchedTokens): boolean {
  return Map.prototype.has.call(tokens, TOKEN);
}

async function listener(t: import('node:test').TestContext) {
  const cert = await ensureSelfSignedCert({ dir: join(tempDir(t), 'tls'), dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  const tokens = new WatchedTokens([[TOKEN, 'wifi']]);
  const reports: Array<{ step: string; report: PhoneReport }> = [];
  const server = await startRemoteServer({ host: '127.0.0.1', port: 0, cert: cert.cert, key: cert.key, tokens, onReport: (step, report) => reports.push({ step, report }) });
  t.after(() => server.close());
  return { server, tokens, reports };
}

/** A report POST whose headers go out now and whose body is written by the caller; resolves with the status. */
function openReport(port: number, length: number): { req: ClientRequest; status: Promise<number> } {
  const opts: RequestOptions = {
    host: '127.0.0.1',
    port,
    method: 'POST',
    path: `/r/${TOKEN}/report`,
    rejectUnauthorized: false,
    agent: false,
    headers: { 'content-type': 'application/json', 'content-length': String(length) },
  };
  let req!: ClientRequest;
  const status = new Promise<number>((resolve, reject) => {
    req = request(opts, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
  });
  req.flushHeaders();
  return { req, status };
}

test('two reports at once with the same token: one 204, the other 410, and the step is reported once', async (t) => {
  const { server, tokens, reports } = await listener(t);
  const first = openReport(server.port, GOOD.length);
  await tokens.until(() => tokens.lookups >= 1);
  // The second report's headers reach the listener while the first one's body is still on its way.
  const second = openReport(server.port, GOOD.length);
  await tokens.until(() => tokens.lookups >= 2);
  first.req.end(GOOD);
  second.req.end(GOOD);
  const statuses = (await Promise.all([first.status, second.status])).sort();
  assert.deepEqual(statuses, [204, 410]);
  assert.deepEqual(reports, [{ step: 'wifi', report: JSON.parse(GOOD) }]);
  assert.equal(tokens.size, 0);
});

test('a report cut off before its body ends gives the token back: the phone can send it again', async (t) => {
  const { server, tokens, reports } = await listener(t);
  const cut = openReport(server.port, GOOD.length);
  await tokens.until(() => tokens.lookups >= 1);
  cut.status.catch(() => {});
  cut.req.write(GOOD.slice(0, 5));
  cut.req.destroy();
  await tokens.until(() => holdsToken(tokens));
  const again = openReport(server.port, GOOD.length);
  again.req.end(GOOD);
  assert.equal(await again.status, 204);
  assert.equal(reports.length, 1);
});

test('terminalSafe removes escape sequences, C0/C1 controls and bidi overrides, keeping the printable text', () => {
  assert.equal(terminalSafe('refused or blocked'), 'refused or blocked');
  assert.equal(terminalSafe('a\x1b[2J\x1b[1;1Hb'), 'ab');
  assert.equal(terminalSafe('\x1b]0;owned\x07title'), 'title');
  assert.equal(terminalSafe('\x1b]52;c;ZXZpbA==\x1b\\clip'), 'clip');
  assert.equal(terminalSafe('\x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\'), 'link');
  assert.equal(terminalSafe('c1\x9b31mred\x9d0;t\x9cok'), 'c1redok');
  assert.equal(terminalSafe('line\nfake ✓ Mobile data\r\tx\x00\x7f'), 'linefake ✓ Mobile datax');
  assert.equal(terminalSafe('\x1bcreset\x1b'), 'reset');
  assert.equal(terminalSafe('\u202eevil\u2066'), 'evil');
  assert.equal(terminalSafe('café 日本 🙂'), 'café 日本 🙂');
  // Nothing below U+0020, DEL or C1 survives, whatever the input.
  let all = '';
  for (let c = 0; c < 0xa0; c++) all += String.fromCharCode(c);
  assert.doesNotMatch(terminalSafe(all), /[\x00-\x1f\x7f-\x9f]/);
});

test("the phone's wsError is printed without its escape sequences or newlines", () => {
  const wsError = '\x1b[1A\x1b[2K\r✓ Mobile data: secure context\n\x1b]0;pwned\x07\x9b2J';
  const d = describeReport('mobile', { secure: true, loadMs: 10, wsMs: null, wsError }, plain);
  assert.equal(d.ok, false);
  assert.equal(d.lines.length, 2);
  for (const line of d.lines) assert.doesNotMatch(line, /[\x00-\x1f\x7f-\x9f]/);
  assert.equal(d.lines[1], '    WebSocket did not connect (✓ Mobile data: secure context): a proxy, filter or antivirus on that network blocks it');
  const empty = describeReport('wifi', { secure: true, loadMs: 10, wsMs: null, wsError: '\x1b[0m' }, plain);
  assert.match(empty.lines[1]!, /WebSocket did not connect \(no reason given\)/);
});
