/**
 * Firewall section: which host firewall is active and whether it lets our TCP ports in, read-only
 * (see src/cli/firewall/detect.ts). Fills facts.firewall. Proof needs a second device, so an
 * unknown answer points to `chatroom doctor --remote`.
 */
import { isLoopbackHost } from '../../../tls/addresses.ts';
import { currentFirewallOs, detectFirewall, type LinuxFirewallKind } from '../../firewall/index.ts';
import { firewallPorts } from '../../firewall/command.ts';
import { LINUX_KINDS, fixCommands } from '../../firewall/render.ts';
import { shellQuote } from '../../style.ts';
import type { Check, CheckGroup } from '../types.ts';

const KIND_NAMES: Record<string, string> = {
  ufw: 'ufw',
  firewalld: 'firewalld',
  nftables: 'nftables',
  iptables: 'iptables',
  'windows-defender': 'Windows Defender Firewall',
  'macos-application-firewall': 'macOS Application Firewall',
  none: 'none',
  unknown: 'unknown',
};

/** The Firewall section. */
export const firewallChecks: CheckGroup = async (ctx) => {
  const os = currentFirewallOs();
  const ports = firewallPorts(ctx.config);
  const list = ports.http ? [ports.https, ports.http] : [ports.https];
  const state = await detectFirewall(os, list, { timeoutMs: ctx.timeoutMs, env: ctx.env });
  ctx.facts.firewall = { kind: state.kind, allowsPorts: state.allowsPorts };
  const name = KIND_NAMES[state.kind] ?? state.kind;
  const details = { kind: state.kind, active: state.active, allowsPorts: state.allowsPorts, blockedPorts: state.blockedPorts, source: state.source };

  const active: Check = {
    id: 'firewall.active',
    section: 'firewall',
    title: 'Host firewall',
    status: state.kind === 'unknown' ? 'warn' : 'ok',
    value:
      state.kind === 'none'
        ? 'none active (ufw, firewalld, nftables, iptables)'
        : state.kind === 'unknown'
          ? `could not tell: ${state.note ?? 'no answer'}`
          : state.active === false
            ? `${name}, turned off`
            : `${name}${state.active ? ' is on' : ''}${state.note && state.allowsPorts !== null ? ` (${state.note})` : ''}`,
    details,
  };
  if (active.status === 'warn') active.fix = [os === 'linux' ? 'sudo chatroom doctor --dir ' + shellQuote(ctx.dir) + '   # root can read the rules' : 'Run chatroom doctor as administrator to read the rules.'];

  const portsText = `TCP ${list.join(', ')}`;
  const linuxKind = LINUX_KINDS.includes(state.kind as LinuxFirewallKind) ? (state.kind as LinuxFirewallKind) : undefined;
  const fixes = async () => {
    const lines = linuxKind || os !== 'linux' ? await fixCommands(os, ports, linuxKind) : [];
    return [...lines, `chatroom firewall --dir ${shellQuote(ctx.dir)}   # all the commands, and how to undo them`];
  };
  const base = { id: 'firewall.ports', section: 'firewall' as const, title: 'Our ports', details };
  let portsCheck: Check;
  if (isLoopbackHost(ctx.config.host)) {
    portsCheck = { ...base, status: 'ok', value: `not needed: the server listens on ${ctx.config.host} only` };
  } else if (state.allowsPorts === true) {
    portsCheck = { ...base, status: 'ok', value: state.kind === 'none' || state.active === false ? `${portsText}: nothing blocks them` : `${name} lets ${portsText} in` };
  } else if (state.allowsPorts === false) {
    const blocked = state.blockedPorts.length ? `TCP ${state.blockedPorts.join(', ')}` : portsText;
    portsCheck = { ...base, status: 'fail', value: `${name} blocks ${blocked}${state.note ? ` (${state.note})` : ''}`, fix: await fixes() };
  } else {
    portsCheck = {
      ...base,
      status: 'warn',
      value: `could not tell whether ${state.kind === 'unknown' ? 'a firewall' : name} lets ${portsText} in${state.note && state.kind !== 'unknown' ? ` (${state.note})` : ''}`,
      fix: [...(await fixes()), `chatroom doctor --remote --dir ${shellQuote(ctx.dir)}   # proves it from your phone`],
    };
  }
  return [active, portsCheck];
};
