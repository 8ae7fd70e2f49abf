// Doctor pieces without the bin: the verdict rule, the phone-report lines, the remote listener's refusals (bad report, unknown or used token), the fix commands taken from the firewall templates, and parser cases that must come out "unknown" rather than a guess.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { join } from 'node:path';
import { withDefaults, resolveConfig } from '../../src/config/defaults.ts';
import type { PartialConfig } from '../../src/config/defaults.ts';
import { decideVerdict } from '../../src/cli/doctor/verdict.ts';
import type { Check, DoctorFacts } from '../../src/cli/doctor/types.ts';
import { describeReport } from '../../src/cli/doctor/remote/session.ts';
import { startRemoteServer } from '../../src/cli/doctor/remote/server.ts';
import { fixCommands } from '../../src/cli/firewall/render.ts';
import { parseIptablesRules, parseNftRuleset, parseUfwStatus } from '../../src/cli/firewall/rules.ts';
import { ensureSelfSignedCert } from '../../src/tls/selfsigned.ts';
import { paint } from '../../src/cli/style.ts';
import { tempDir } from './helpers.ts';

const plain = paint({ color: false });

function verdictFor(partial: PartialConfig, facts: DoctorFacts, checks: Check[] = []) {
  return decideVerdict({ config: resolveConfig(withDefaults(partial), '/tmp'), facts }, checks);
}

const failing = (section: Check['section']): Check => ({ id: `${section}.x`, section, status: 'fail', title: 'x', value: 'x' });

test('verdict: loopback bind, no LAN address or a blocking firewall → only this computer', () => {
  assert.equal(verdictFor({ host: '127.0.0.1' }, { lanAddresses: ['192.168.1.5'] }).kind, 'local');
  assert.equal(verdictFor({}, { lanAddresses: [] }).kind, 'local');
  assert.match(verdictFor({}, { lanAddresses: ['192.168.1.5'], firewall: { kind: 'ufw', allowsPorts: false } }).text, /^Only on this computer \(the ufw firewall blocks the port\)/);
  // A reverse proxy with a public URL in front of a loopback bind serves the outside.
  assert.equal(verdictFor({ host: '127.0.0.1', tls: { mode: 'off' }, behindProxy: true, publicUrl: 'https://chat.example.org' }, { publicUrl: 'https://chat.example.org' }).kind, 'internet');
});

test('verdict: a known https public URL and no outside failure → internet; a router failure → LAN with its address', () => {
  const facts: DoctorFacts = { lanAddresses: ['192.168.1.5'], firewall: { kind: 'none', allowsPorts: true }, publicUrl: 'https://203.0.113.7' };
  const internet = verdictFor({}, facts, [failing('local')]);
  assert.deepEqual(internet, { kind: 'internet', url: 'https://203.0.113.7', text: 'Reachable from the internet at https://203.0.113.7' });
  for (const section of ['firewall', 'router', 'internet', 'tls'] as const) {
    const v = verdictFor({}, facts, [failing(section)]);
    assert.equal(v.kind, 'lan', section);
    assert.equal(v.text, 'Only on your local network (from other devices: https://192.168.1.5:8443)');
  }
  assert.equal(verdictFor({}, { ...facts, publicUrl: undefined }).kind, 'lan');
});

test('phone report lines: not a secure context and a failed WebSocket are ✗ with the reason', () => {
  const good = describeReport('wifi', { secure: true, loadMs: 120, wsMs: 15, wsError: null }, plain);
  assert.deepEqual(good, { ok: true, lines: ['✓ Wi-Fi: secure context, page loaded in 120 ms, WebSocket connected in 15 ms'] });
  const bad = describeReport('mobile', { secure: false, loadMs: 900, wsMs: null, wsError: 'timed out' }, plain);
  assert.equal(bad.ok, false);
  assert.equal(bad.lines[0], '✗ Mobile data: NOT a secure context, page loaded in 900 ms, WebSocket failed');
  assert.match(bad.lines[1]!, /not a secure context/);
  assert.match(bad.lines[2]!, /WebSocket did not connect \(timed out\)/);
});

function call(port: number, method: string, path: string, body?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, rejectUnauthorized: false, headers: body ? { 'content-type': 'application/json' } : {} }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('remote listener: a malformed report is 400 and keeps the token; a good one is 204 once, then 410; unknown paths 404', async (t) => {
  const cert = await ensureSelfSignedCert({ dir: join(tempDir(t), 'tls'), dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  const tok = 'abcdefghijklmnopqrstuv';
  const reports: unknown[] = [];
  const server = await startRemoteServer({ host: '127.0.0.1', port: 0, cert: cert.cert, key: cert.key, tokens: new Map([[tok, 'wifi']]), onReport: (step, r) => reports.push({ step, r }) });
  t.after(() => server.close());
  assert.equal(await call(server.port, 'GET', `/r/${tok}/`), 200);
  assert.equal(await call(server.port, 'GET', `/r/${tok}/check.js`), 200);
  assert.equal(await call(server.port, 'POST', `/r/${tok}/report`, '{"secure":"yes"}'), 400);
  assert.equal(await call(server.port, 'POST', `/r/${tok}/report`, 'x'.repeat(5000)), 400);
  assert.equal(reports.length, 0);
  assert.equal(await call(server.port, 'POST', `/r/${tok}/report`, JSON.stringify({ secure: true, loadMs: 5, wsMs: 2, wsError: null })), 204);
  assert.deepEqual(reports, [{ step: 'wifi', r: { secure: true, loadMs: 5, wsMs: 2, wsError: null } }]);
  assert.equal(await call(server.port, 'GET', `/r/${tok}/`), 410);
  assert.equal(await call(server.port, 'GET', '/'), 404);
});

test('fix commands come from the templates: Windows removes the node.exe block rule, macOS unblocks node, Linux per tool', async () => {
  const windows = await fixCommands('windows', { https: 8443, http: 8080 });
  assert.equal(windows.length, 2);
  assert.match(windows[0]!, /^New-NetFirewallRule .* -LocalPort 8443,8080 /);
  assert.match(windows[1]!, /Action -eq 'Block'.*Remove-NetFirewallRule$/);
  assert.equal((await fixCommands('macos', { https: 8443, http: null })).length, 2);
  assert.deepEqual(await fixCommands('linux', { https: 8443, http: null }, 'firewalld'), ['sudo firewall-cmd --permanent --add-port=8443/tcp && sudo firewall-cmd --reload']);
  assert.deepEqual(await fixCommands('linux', { https: 8443, http: 8080 }, 'iptables'), ['sudo iptables -I INPUT -p tcp -m multiport --dports 8443,8080 -j ACCEPT -m comment --comment chatroom']);
});

test('parsers answer "unknown" instead of guessing: a jump to another chain, a source-address rule, a ufw rule from one subnet', () => {
  const jump = 'table inet filter {\n\tchain input {\n\t\ttype filter hook input priority 0; policy drop;\n\t\tjump custom\n\t}\n}';
  assert.equal(parseNftRuleset(jump, [8443]).verdicts.get(8443), null);
  const saddr = 'table ip filter {\n\tchain INPUT {\n\t\ttype filter hook input priority 0; policy drop;\n\t\tip saddr 192.168.0.0/16 accept\n\t}\n}';
  assert.equal(parseNftRuleset(saddr, [8443]).verdicts.get(8443), null);
  const accept = 'table inet filter {\n\tchain input {\n\t\ttype filter hook input priority 0; policy accept;\n\t}\n}';
  assert.deepEqual([...parseNftRuleset(accept, [8443]).verdicts], [[8443, true]]);
  assert.equal(parseNftRuleset('', [8443]).filtering, false);
  assert.equal(parseIptablesRules('-P INPUT DROP\n-A INPUT -j ufw-before-input', [8443]).verdicts.get(8443), null);
  assert.equal(parseIptablesRules('-P INPUT ACCEPT', [8443]).filtering, false);
  const ufw = 'Status: active\nDefault: deny (incoming), allow (outgoing)\n\nTo Action From\n8443/tcp                   ALLOW IN    192.168.1.0/24';
  assert.equal(parseUfwStatus(ufw, [8443]).verdicts.get(8443), null);
  const ufwOpen = 'Status: active\nDefault: allow (incoming), allow (outgoing)';
  assert.equal(parseUfwStatus(ufwOpen, [8443]).verdicts.get(8443), true);
  assert.equal(parseUfwStatus('Status: active\nDefault: deny (incoming)\n8000:9000/tcp   DENY IN   Anywhere\n8443/tcp  ALLOW IN  Anywhere', [8443]).verdicts.get(8443), false);
});
