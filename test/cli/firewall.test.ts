// Firewall instructions: golden output per OS (ports substituted), `chatroom firewall` through the real bin, and read-only detection of the active firewall (Linux tools, Windows netsh/PowerShell, macOS socketfilterfw) with stand-in tools that print what the real ones print.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderFirewallInstructions, type FirewallPorts } from '../../src/cli/firewall/render.ts';
import { detectLinux, detectMacos, detectWindows } from '../../src/cli/firewall/detect.ts';
import { runCli, tempDir } from './helpers.ts';

const GOLDEN = join(import.meta.dirname, 'golden');
const PORTS: FirewallPorts = { https: 8443, http: 8080 };

/** Compares with test/cli/golden/<name>; UPDATE_GOLDEN=1 rewrites the file instead. */
function golden(name: string, actual: string): void {
  const file = join(GOLDEN, name);
  if (process.env.UPDATE_GOLDEN === '1' || !existsSync(file)) {
    if (process.env.CHATROOM_TEST_STRICT === '1' && !existsSync(file)) assert.fail(`golden file ${name} is missing`);
    writeFileSync(file, actual);
  }
  assert.equal(actual, readFileSync(file, 'utf8'), `output differs from test/cli/golden/${name} (UPDATE_GOLDEN=1 rewrites it)`);
}

test('Windows: New-NetFirewallRule and netsh with both ports, and the node.exe block rule', async () => {
  const text = await renderFirewallInstructions('windows', PORTS);
  golden('firewall-windows.txt', text);
  assert.match(text, /New-NetFirewallRule -DisplayName "chatroom \(TCP 8443,8080\)" .* -LocalPort 8443,8080 /);
  assert.match(text, /netsh advfirewall firewall add rule name="chatroom \(TCP 8443,8080\)" dir=in action=allow protocol=TCP localport=8443,8080/);
  assert.match(text, /Program -like '\*node\.exe'.*Action -eq 'Block'.*Remove-NetFirewallRule/);
  assert.doesNotMatch(text, /\{\{/);
});

test('macOS: socketfilterfw --add and --unblockapp for the node binary', async () => {
  const text = await renderFirewallInstructions('macos', PORTS);
  golden('firewall-macos.txt', text);
  assert.match(text, /sudo \/usr\/libexec\/ApplicationFirewall\/socketfilterfw --add "\$\(realpath "\$\(command -v node\)"\)"/);
  assert.match(text, /--unblockapp/);
});

test('Linux, firewall unknown: ufw, firewalld, nftables and iptables commands', async () => {
  const text = await renderFirewallInstructions('linux', PORTS, 'unknown');
  golden('firewall-linux.txt', text);
  for (const line of [
    "sudo ufw allow 8443/tcp comment 'chatroom HTTPS'",
    "sudo ufw allow 8080/tcp comment 'chatroom HTTP'",
    'sudo firewall-cmd --permanent --add-port=8443/tcp && sudo firewall-cmd --reload',
    'sudo nft insert rule inet filter input tcp dport { 8443, 8080 } accept',
    'sudo iptables -I INPUT -p tcp -m multiport --dports 8443,8080 -j ACCEPT',
  ]) assert.ok(text.includes(line), line);
});

test('Linux with ufw active and no HTTP port: only ufw, only the HTTPS port', async () => {
  const text = await renderFirewallInstructions('linux', { https: 9443, http: null }, 'ufw');
  golden('firewall-linux-ufw-https-only.txt', text);
  assert.match(text, /^Linux: ufw is active\./);
  assert.ok(text.includes("sudo ufw allow 9443/tcp comment 'chatroom HTTPS'"));
  assert.doesNotMatch(text, /firewall-cmd|nft |iptables|8080|HTTP'/);
});

test('chatroom firewall --os windows prints the Windows instructions with the ports from chatroom.yaml', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'chatroom.yaml'), 'port: 9443\nhttpPort: 9080\n');
  const r = await runCli(t, ['firewall', '--dir', dir, '--os', 'windows']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, await renderFirewallInstructions('windows', { https: 9443, http: 9080 }));
  const bad = await runCli(t, ['firewall', '--os', 'beos']);
  assert.equal(bad.code, 2);
  const defaults = await runCli(t, ['firewall', '--dir', tempDir(t), '--os', 'macos']);
  assert.equal(defaults.stdout, await renderFirewallInstructions('macos', PORTS));
});

test('chatroom firewall with a bad chatroom.yaml exits 2 naming the key', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'chatroom.yaml'), 'port: not-a-port\n');
  const r = await runCli(t, ['firewall', '--dir', dir, '--os', 'linux']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /CONFIG_INVALID.*port/);
});

/** A folder of stand-in tools: each prints its canned output and exits with its code. */
function fakeTools(t: import('node:test').TestContext, tools: Record<string, { out: string; code?: number }>): Record<string, string> {
  const bin = join(tempDir(t, 'chatroom-fakebin-'), 'bin');
  mkdirSync(bin);
  for (const [name, { out, code = 0 }] of Object.entries(tools)) {
    const file = join(bin, name);
    // Shell builtins only: the PATH below has no cat.
    writeFileSync(file, `#!/bin/sh\nwhile IFS= read -r line; do printf '%s\\n' "$line"; done <<'OUT'\n${out}\nOUT\nexit ${code}\n`);
    chmodSync(file, 0o755);
  }
  // Only the stand-ins and the shell's own basics: the real nft/iptables of this machine are not on it.
  return { ...process.env, PATH: `${bin}:/nonexistent` };
}

test('detection: an active ufw without a rule for our port blocks it; a rule allows it', async (t) => {
  const status = (rules: string) => `Status: active\nLogging: on (low)\nDefault: deny (incoming), allow (outgoing), disabled (routed)\nNew profiles: skip\n\nTo                         Action      From\n--                         ------      ----\n22/tcp                     ALLOW IN    Anywhere\n${rules}`;
  const blocked = await detectLinux([8443, 8080], { env: fakeTools(t, { ufw: { out: status('') } }) });
  assert.deepEqual({ kind: blocked.kind, allows: blocked.allowsPorts, blocked: blocked.blockedPorts }, { kind: 'ufw', allows: false, blocked: [8443, 8080] });
  const open = await detectLinux([8443, 8080], { env: fakeTools(t, { ufw: { out: status('8443/tcp                   ALLOW IN    Anywhere\n8080/tcp (v6)              ALLOW IN    Anywhere (v6)\n8080/tcp                   ALLOW IN    Anywhere') } }) });
  assert.equal(open.allowsPorts, true);
});

test('detection: ufw installed but inactive falls through to the running firewalld', async (t) => {
  const env = fakeTools(t, {
    ufw: { out: 'Status: inactive' },
    'firewall-cmd': { out: 'running' },
  });
  // One stand-in answers all three firewall-cmd calls: "running" is neither a zone nor a port list,
  // so the port must be reported blocked, not allowed.
  const s = await detectLinux([8443], { env });
  assert.equal(s.kind, 'firewalld');
  assert.equal(s.allowsPorts, false);
});

test('detection: nftables with policy drop and an accept for one port', async (t) => {
  const ruleset = `table inet filter {
	chain input {
		type filter hook input priority filter; policy drop;
		ct state established,related accept
		iif "lo" accept
		tcp dport 22 accept
		tcp dport { 443, 8443 } counter packets 0 bytes 0 accept comment "chatroom"
	}
	chain forward {
		type filter hook forward priority filter; policy drop;
	}
}`;
  const s = await detectLinux([8443, 8080], { env: fakeTools(t, { nft: { out: ruleset } }) });
  assert.equal(s.kind, 'nftables');
  assert.equal(s.allowsPorts, false);
  assert.deepEqual(s.blockedPorts, [8080]);
});

test('detection: iptables with a REJECT at the end and a multiport accept before it', async (t) => {
  const rules = '-P INPUT ACCEPT\n-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n-A INPUT -i lo -j ACCEPT\n-A INPUT -p tcp -m multiport --dports 8443,8080 -m comment --comment chatroom -j ACCEPT\n-A INPUT -j REJECT --reject-with icmp-host-prohibited';
  const s = await detectLinux([8443, 8080], { env: fakeTools(t, { nft: { out: '', code: 1 }, iptables: { out: rules } }) });
  assert.equal(s.kind, 'iptables');
  assert.equal(s.allowsPorts, true);
  const blocked = await detectLinux([9000], { env: fakeTools(t, { iptables: { out: rules } }) });
  assert.equal(blocked.allowsPorts, false);
});

test('detection: no tool installed at all is "none", and a tool that needs root is "unknown", never a crash', async (t) => {
  const none = await detectLinux([8443], { env: fakeTools(t, {}) });
  assert.equal(none.kind, 'none');
  assert.equal(none.allowsPorts, true);
  const denied = await detectLinux([8443], {
    env: fakeTools(t, { nft: { out: 'Error: Operation not permitted', code: 1 }, iptables: { out: 'iptables: Permission denied (you must be root).', code: 4 } }),
  });
  assert.equal(denied.kind, 'unknown');
  assert.equal(denied.allowsPorts, null);
  assert.match(denied.note ?? '', /root/);
});

test('chatroom firewall on Linux shows only the firewall that is active (ufw here)', { skip: process.platform === 'linux' ? undefined : 'Linux only' }, async (t) => {
  const env = fakeTools(t, { ufw: { out: 'Status: active\nDefault: deny (incoming)' } });
  const r = await runCli(t, ['firewall', '--dir', tempDir(t)], { PATH: env.PATH! });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Linux: ufw is active\.\nLet in TCP 8443,8080 with it:\n/);
  assert.doesNotMatch(r.stdout, /firewall-cmd|nft |iptables/);
});

test('Windows detection: a node.exe block rule means blocked; our rule means allowed, unless the network is Public; all profiles off means nothing blocks', async (t) => {
  const on = 'Domain Profile Settings:\n----------------------------------------------------------------------\nState                                 ON\n\nPrivate Profile Settings:\nState                                 ON\nOk.';
  const blocked = await detectWindows([8443, 8080], { env: fakeTools(t, { netsh: { out: on }, powershell: { out: '1' } }) });
  assert.equal(blocked.allowsPorts, false);
  assert.match(blocked.note ?? '', /block rule for node\.exe/);
  const rule = 'Rule Name:                            chatroom (TCP 8443,8080)\n----------------------------------------------------------------------\nEnabled:                              Yes\nDirection:                            In\nAction:                               Allow\nOk.';
  // One stand-in netsh answers both calls: the state (ON) and the rule (Action: Allow).
  const allowed = await detectWindows([8443, 8080], { env: fakeTools(t, { netsh: { out: `${on}\n${rule}` }, powershell: { out: '0' } }) });
  assert.equal(allowed.allowsPorts, true);
  // The same rule on a network filed as Public: PowerShell's one stand-in answers "Public" to both questions (no block rule counted).
  const publicNet = await detectWindows([8443, 8080], { env: fakeTools(t, { netsh: { out: `${on}\n${rule}` }, powershell: { out: 'Public' } }) });
  assert.equal(publicNet.allowsPorts, false);
  assert.match(publicNet.note ?? '', /marked Public/);
  const off = await detectWindows([8443], { env: fakeTools(t, { netsh: { out: 'Private Profile Settings:\nState                                 OFF\nOk.' } }) });
  assert.deepEqual({ active: off.active, allows: off.allowsPorts }, { active: false, allows: true });
  const unknown = await detectWindows([8443], { env: fakeTools(t, { netsh: { out: on }, powershell: { out: '0' } }) });
  assert.equal(unknown.allowsPorts, null);
});

test('macOS detection: "block all incoming" blocks even an allowed node; a disabled firewall allows', async (t) => {
  const dir = tempDir(t, 'chatroom-fakesfw-');
  const tool = (name: string, script: string) => {
    const file = join(dir, name);
    writeFileSync(file, `#!/bin/sh\n${script}\n`);
    chmodSync(file, 0o755);
    return file;
  };
  const blockAll = tool('blockall', 'case "$1" in --getglobalstate) echo "Firewall is enabled. (State = 1)";; --getblockall) echo "Firewall has block all state set to enabled.";; *) echo "The application is permitted";; esac');
  const s = await detectMacos({ socketfilterfw: blockAll });
  assert.equal(s.allowsPorts, false);
  assert.match(s.note ?? '', /Block all incoming/);
  const permitted = tool('permitted', 'case "$1" in --getglobalstate) echo "Firewall is enabled. (State = 1)";; --getblockall) echo "Firewall has block all state set to disabled.";; *) echo "The application /usr/local/bin/node is permitted";; esac');
  assert.equal((await detectMacos({ socketfilterfw: permitted })).allowsPorts, true);
  const appBlocked = tool('blocked', 'case "$1" in --getglobalstate) echo "Firewall is enabled. (State = 1)";; --getblockall) echo "Firewall has block all state set to disabled.";; *) echo "The application /usr/local/bin/node is blocked";; esac');
  assert.equal((await detectMacos({ socketfilterfw: appBlocked })).allowsPorts, false);
  const disabled = tool('disabled', 'echo "Firewall is disabled. (State = 0)"');
  assert.equal((await detectMacos({ socketfilterfw: disabled })).allowsPorts, true);
});
