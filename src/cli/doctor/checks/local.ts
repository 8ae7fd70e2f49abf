/**
 * Local section: the HTTPS and HTTP ports (free, ours, or another program's), the bind address,
 * this computer's LAN addresses and whether a VPN owns the default route. Fills
 * facts.serverRunning and facts.lanAddresses. Looks only: a port is bound for an instant to see
 * whether it could be, never held, and nothing is ever stopped.
 */
import { platform } from 'node:os';
import { isLoopbackHost, localAddresses } from '../../../tls/addresses.ts';
import { shellQuote } from '../../style.ts';
import { acceptsConnections, isChatroom, isChatroomRedirect, portOwner, tryBind, whoHasPortCommand, type PortOwner } from '../probe.ts';
import { defaultRoute } from '../route.ts';
import type { Check, CheckGroup, DoctorContext } from '../types.ts';

const WILDCARDS = new Set(['0.0.0.0', '::', '']);

/** Where to connect to reach our own listener: the bound address, or loopback for a wildcard bind. */
function probeHost(host: string): string {
  if (WILDCARDS.has(host)) return host === '::' ? '::1' : '127.0.0.1';
  return host === 'localhost' ? '127.0.0.1' : host;
}

/** Binding 0.0.0.0 on Windows pops up the firewall prompt: test the bind on loopback there. */
function bindHost(host: string): string {
  return platform() === 'win32' && WILDCARDS.has(host) ? '127.0.0.1' : host;
}

function startCommand(ctx: DoctorContext, flags: string): string {
  return `chatroom start --dir ${shellQuote(ctx.dir)} ${flags}`;
}

function ownerWords(owner: PortOwner | null): string {
  if (!owner) return 'another program';
  return owner.pid ? `another program (${owner.name}, pid ${owner.pid})` : `another program (${owner.name})`;
}

type PortRole = 'https' | 'http';

async function portCheck(ctx: DoctorContext, role: PortRole): Promise<Check> {
  const { config } = ctx;
  const tls = config.tls.mode !== 'off';
  const port = role === 'https' ? config.port : config.httpPort;
  const id = role === 'https' ? 'local.port' : 'local.httpPort';
  const title = role === 'https' ? (tls ? 'HTTPS port' : 'HTTP port') : 'HTTP port';
  const base = { id, section: 'local' as const, title };
  if (port === 0) return { ...base, status: 'ok', value: 'any free port, picked at start (port: 0)', details: { port } };

  const host = probeHost(config.host);
  const otherPort = role === 'https' ? 9443 : 9080;
  const flag = role === 'https' ? '--port' : '--http-port';
  const key = role === 'https' ? 'port' : 'httpPort';
  // The HTTP port only redirects (and answers ACME): without it chatroom still serves, so a clash is a warn.
  const clash = role === 'https' || config.tls.mode === 'acme' ? 'fail' : 'warn';

  const taken = async (): Promise<Check> => {
    const owner = await portOwner(port, ctx.timeoutMs, ctx.env);
    return {
      ...base,
      status: clash,
      value: `${port} is used by ${ownerWords(owner)}`,
      fix: [
        `${startCommand(ctx, `${flag} ${otherPort}`)}   # or set ${key}: ${otherPort} in chatroom.yaml`,
        `${whoHasPortCommand(port)}   # shows which program has it; stop it yourself if it should not run`,
      ],
      details: { port, inUse: true, chatroom: false, owner: owner ? { name: owner.name, pid: owner.pid } : null },
    };
  };

  if (await acceptsConnections(host, port, ctx.timeoutMs)) {
    const ours = role === 'https' ? await isChatroom(host, port, tls, ctx.timeoutMs) : await isChatroomRedirect(host, port, config.port, ctx.timeoutMs);
    if (role === 'https') ctx.facts.serverRunning = ours;
    if (ours) return { ...base, status: 'ok', value: `chatroom is running on ${port}`, details: { port, inUse: true, chatroom: true } };
    return taken();
  }

  if (role === 'https') ctx.facts.serverRunning = false;
  const bind = await tryBind(bindHost(config.host), port);
  if (bind === 'free') return { ...base, status: 'ok', value: `${port} is free`, details: { port, inUse: false } };
  if (bind === 'EADDRINUSE') return taken();
  if (bind === 'EACCES') {
    return {
      ...base,
      status: 'fail',
      value: `${port} needs administrator rights (ports below 1024)`,
      fix: [
        `${startCommand(ctx, `${flag} ${role === 'https' ? 8443 : 8080}`)}   # the router can still forward outside port ${role === 'https' ? 443 : 80} to it`,
        ...(platform() === 'linux' ? [`sudo setcap cap_net_bind_service=+ep "$(readlink -f "$(command -v node)")"   # lets every node program bind low ports: not recommended`] : []),
      ],
      details: { port, error: bind },
    };
  }
  if (bind === 'EADDRNOTAVAIL') {
    return { ...base, status: 'warn', value: `not checked: ${config.host} is not an address of this computer (see Bind address)`, details: { port, error: bind } };
  }
  return { ...base, status: 'warn', value: `could not test ${port}: ${bind}`, details: { port, error: bind } };
}

function bindCheck(ctx: DoctorContext): Check {
  const { config } = ctx;
  const base = { id: 'local.bind', section: 'local' as const, title: 'Bind address' };
  const host = config.host;
  if (host === '0.0.0.0') return { ...base, status: 'ok', value: 'all IPv4 addresses (0.0.0.0)', details: { host } };
  if (host === '::') return { ...base, status: 'ok', value: 'all addresses (::)', details: { host } };
  if (isLoopbackHost(host)) {
    const flags = config.tls.mode === 'off' ? '--host 0.0.0.0 --tls self-signed' : '--host 0.0.0.0';
    return {
      ...base,
      status: 'warn',
      value: `${host} only: other devices cannot connect`,
      fix: [
        `${startCommand(ctx, flags)}   # or set host: 0.0.0.0 in chatroom.yaml${config.tls.mode === 'off' ? ' (other devices need HTTPS: tls.mode self-signed)' : ''}`,
        'Keep it if only this computer should use chatroom (or a reverse proxy on it serves the outside).',
      ],
      details: { host, loopback: true },
    };
  }
  const { ipv4, ipv6 } = localAddresses();
  if ([...ipv4, ...ipv6].includes(host)) return { ...base, status: 'ok', value: `${host} only`, details: { host } };
  return {
    ...base,
    status: 'fail',
    value: `${host} is not an address of this computer`,
    fix: [`${startCommand(ctx, '--host 0.0.0.0')}   # or set host: 0.0.0.0 in chatroom.yaml`],
    details: { host },
  };
}

function lanCheck(ctx: DoctorContext): Check {
  const { ipv4, ipv6 } = localAddresses();
  const all = [...ipv4, ...ipv6];
  ctx.facts.lanAddresses = all;
  const base = { id: 'local.lan', section: 'local' as const, title: 'LAN addresses' };
  if (!all.length) {
    return { ...base, status: 'warn', value: 'none: this computer is on no network', fix: ['Connect this computer to your home network (Wi-Fi or Ethernet), then run chatroom doctor again.'], details: { addresses: [] } };
  }
  const shown = all.slice(0, 4).join(', ') + (all.length > 4 ? ` (+${all.length - 4} more)` : '');
  return { ...base, status: 'ok', value: shown, details: { addresses: all } };
}

async function vpnCheck(ctx: DoctorContext): Promise<Check> {
  const base = { id: 'local.vpn', section: 'local' as const, title: 'Default route' };
  const route = await defaultRoute(ctx.timeoutMs, ctx.env);
  if (!route) return { ...base, status: 'ok', value: 'not checked (the routing table could not be read)', details: { checked: false } };
  if (!route.iface) return { ...base, status: 'ok', value: 'no default route: no internet connection, the LAN only', details: { checked: true, iface: null } };
  if (!route.vpn) return { ...base, status: 'ok', value: `via ${route.iface} (no VPN)`, details: { checked: true, iface: route.iface, vpn: false } };
  return {
    ...base,
    status: 'warn',
    value: `via ${route.iface}: a VPN carries this computer's internet traffic`,
    fix: [
      'Disconnect the VPN, or turn on its "split tunnelling" / "allow LAN access" option, while you host chatroom.',
      'With the VPN on, your router cannot forward outside connections to chatroom, and its answers may leave through the VPN.',
    ],
    details: { checked: true, iface: route.iface, vpn: true },
  };
}

/** The Local section. */
export const localChecks: CheckGroup = async (ctx) => {
  const checks: Check[] = [await portCheck(ctx, 'https')];
  if (ctx.config.tls.mode !== 'off' && ctx.config.httpPort !== 0) checks.push(await portCheck(ctx, 'http'));
  checks.push(bindCheck(ctx), lanCheck(ctx), await vpnCheck(ctx));
  return checks;
};
