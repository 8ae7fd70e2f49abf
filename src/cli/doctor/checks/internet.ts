/**
 * Doctor · Internet: what the router's external address means (public, CGNAT, double NAT, none)
 * and the ways out; whether this network loops the public address back (hairpin NAT); whether
 * the configured DNS name points at the external address. Uses ctx.facts.router from the Router
 * section; sets ctx.facts.publicUrl.
 */
import { promises as dns } from 'node:dns';
import { isIP, connect } from 'node:net';
import type { Check, CheckGroup, DoctorContext } from '../types.ts';
import { publicUrlFor } from '../../../net/public-url.ts';
import { isLoopbackHost } from '../../../tls/addresses.ts';

/** The Internet section of `chatroom doctor`. */
export const internetChecks: CheckGroup = async (ctx) => {
  const checks: Check[] = [];
  const router = ctx.facts.router;
  const scheme = ctx.config.tls.mode === 'off' ? 'http' : 'https';
  const ours = router?.mappings.find((m) => m.ours && m.internalPort === ctx.config.port);
  const externalPort = ours?.externalPort ?? null;

  checks.push(addressCheck(ctx, externalPort));

  if (router?.externalClass === 'public' && router.externalAddress && externalPort && ctx.facts.serverRunning) {
    checks.push(await hairpinCheck(ctx, router.externalAddress, externalPort, scheme));
  }

  const name = domainOf(ctx);
  if (name) checks.push(await dnsCheck(ctx, name, router?.externalClass === 'public' ? router.externalAddress : null));

  const configured = ctx.config.publicUrl.replace(/\/+$/, '');
  if (configured) ctx.facts.publicUrl = configured;
  else if (ctx.config.tls.domain && externalPort) ctx.facts.publicUrl = publicUrlFor(scheme, ctx.config.tls.domain, externalPort);
  else if (router?.externalClass === 'public' && router.externalAddress && externalPort) ctx.facts.publicUrl = publicUrlFor(scheme, router.externalAddress, externalPort);
  return checks;
};

function addressCheck(ctx: DoctorContext, externalPort: number | null): Check {
  const router = ctx.facts.router;
  const base = { id: 'internet.address', section: 'internet' as const, title: 'Internet address' };
  const port = externalPort ?? ctx.config.port;
  if ((!ctx.config.upnp || isLoopbackHost(ctx.config.host)) && !router?.protocol) {
    const why = !ctx.config.upnp ? 'port mapping is off (upnp: false), so the router was not asked' : `the server listens on ${ctx.config.host} only`;
    return { ...base, status: 'ok', value: `not checked: ${why}`, details: { class: 'unknown', asked: false } };
  }
  if (!router || !router.protocol) {
    return {
      ...base,
      status: 'warn',
      value: 'unknown: the router did not say (no port-mapping protocol answered)',
      fix: [
        'Open the router’s status page and find its internet (WAN) address.',
        'If it is between 100.64.0.0 and 100.127.255.255 your provider uses CGNAT; if it starts with 10., 172.16–31. or 192.168. there is another router in front of yours (double NAT). Run `chatroom doctor` after enabling UPnP to have this checked.',
      ],
      details: { class: 'none' },
    };
  }
  const a = router.externalAddress ?? 'none';
  switch (router.externalClass) {
    case 'public':
      return { ...base, status: 'ok', value: `public ${a}`, details: { class: 'public', address: a } };
    case 'cgnat':
      return {
        ...base,
        status: 'fail',
        value: `${a} is a carrier-grade NAT address (CGNAT, 100.64.0.0/10): your provider shares one public address among many customers, so nothing from the internet reaches your router`,
        fix: [
          'Ask your internet provider for a public IPv4 address (also sold as “public IP”, “static IP” or “opt out of CGNAT”); then restart `chatroom start`.',
          `Use IPv6 if your provider offers it: allow TCP ${ctx.config.port} to this computer in the router’s IPv6 firewall, and set \`host: "::"\` in chatroom.yaml.`,
          `Use a relay: rent a small VPS with a public address and tunnel to it, e.g. \`ssh -N -R 0.0.0.0:443:localhost:${ctx.config.port} user@your-vps\` (needs \`GatewayPorts yes\` in the VPS’s sshd_config) or a WireGuard tunnel; then point your DNS name at the VPS.`,
        ],
        details: { class: 'cgnat', address: a },
      };
    case 'private':
      return {
        ...base,
        status: 'fail',
        value: `${a} is a private address: another router (usually the provider’s modem-router) sits in front of yours and also does NAT (double NAT)`,
        fix: [
          'Put the provider’s box in bridge mode (also called “modem mode” or “IP passthrough”) so your router gets the public address; then restart `chatroom start`.',
          `Or, on the provider’s box, forward TCP ${port} to your router’s address ${a} (port ${port}); your router already forwards it on to this computer.`,
        ],
        details: { class: 'private', address: a },
      };
    default:
      return {
        ...base,
        status: 'fail',
        value: 'the router reports no internet address: it is offline, or behind a network that gives it none',
        fix: ['Check that the router is online (its status page, or another device on the network).', 'If it is, its upstream blocks forwarding: ask your provider for a public IPv4 address.'],
        details: { class: 'none' },
      };
  }
}

async function hairpinCheck(ctx: DoctorContext, address: string, port: number, scheme: string): Promise<Check> {
  const base = { id: 'internet.hairpin', section: 'internet' as const, title: 'Public address from inside' };
  const reached = await tcpConnects(address, port, ctx.timeoutMs);
  const lanUrl = `${scheme}://${ctx.facts.lanAddresses?.find((x) => isIP(x) === 4) ?? '<LAN address>'}:${ctx.config.port}`;
  if (reached) return { ...base, status: 'ok', value: `the router loops ${address}:${port} back (hairpin NAT): the public URL works on your network too`, details: { hairpin: true } };
  return {
    ...base,
    status: 'warn',
    value: `the router does not loop ${address}:${port} back to your own network (no hairpin NAT): the public URL works outside only`,
    fix: [
      `On your own network, use ${lanUrl} (the “Network:” line of \`chatroom start\`).`,
      ...(ctx.config.tls.domain ? [`Or make ${ctx.config.tls.domain} resolve to this computer on your network: a local DNS entry on the router, or a hosts-file line \`${lanUrl.replace(/^\w+:\/\/|:\d+$/g, '')} ${ctx.config.tls.domain}\`.`] : []),
      'Or turn on “NAT loopback” / “hairpin NAT” in the router’s settings, if it has that option.',
    ],
    details: { hairpin: false },
  };
}

async function dnsCheck(ctx: DoctorContext, name: string, external: string | null): Promise<Check> {
  const base = { id: 'internet.dns', section: 'internet' as const, title: 'DNS name' };
  let addresses: string[] = [];
  try {
    addresses = await withTimeout(dns.resolve4(name), ctx.timeoutMs);
  } catch (err) {
    const why = (err as Error).message === 'timeout' ? `no answer within ${ctx.timeoutMs} ms` : ((err as NodeJS.ErrnoException).code ?? 'lookup failed');
    return {
      ...base,
      status: 'fail',
      value: `${name} does not resolve to an IPv4 address (${why})`,
      fix: [
        `Create an A record for ${name} pointing at ${external ?? 'your router’s internet address'} at your DNS provider (or update your dynamic-DNS client).`,
        `Check with: \`nslookup ${name}\`.`,
      ],
      details: { name, resolves: false },
    };
  }
  if (!external) return { ...base, status: 'ok', value: `${name} → ${addresses.join(', ')} (not compared: the router’s public address is unknown)`, details: { name, resolves: true } };
  if (addresses.includes(external)) return { ...base, status: 'ok', value: `${name} → ${external}, the router’s internet address`, details: { name, resolves: true, matches: true } };
  return {
    ...base,
    status: 'fail',
    value: `${name} → ${addresses.join(', ')}, but the router’s internet address is ${external}`,
    fix: [`Change the A record of ${name} to ${external} (or update your dynamic-DNS client, e.g. its update URL), then wait for the record’s TTL.`, `Check with: \`nslookup ${name}\`.`],
    details: { name, resolves: true, matches: false },
  };
}

function domainOf(ctx: DoctorContext): string | null {
  if (ctx.config.tls.domain) return ctx.config.tls.domain;
  if (!ctx.config.publicUrl) return null;
  try {
    const host = new URL(ctx.config.publicUrl).hostname;
    return host && !isIP(host.replace(/^\[|\]$/g, '')) ? host : null;
  } catch {
    return null;
  }
}

function tcpConnects(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), ms)))]).finally(() => clearTimeout(timer));
}
