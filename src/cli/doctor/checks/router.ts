/**
 * Doctor · Router: does the router answer a port-mapping protocol (PCP, NAT-PMP, UPnP IGD), is
 * our mapping there and pointing at this computer (or is the port taken by another device), and
 * did the router refuse ports below 1024. Looks only: never maps (see src/net/survey.ts).
 */
import type { CheckGroup, Check, DoctorFacts } from '../types.ts';
import { isLoopbackHost } from '../../../tls/addresses.ts';
import { readNetworkState } from '../../../net/state.ts';
import { terminalSafe } from '../sanitize.ts';
import { surveyRouter, type RouterSurvey } from '../../../net/survey.ts';
import { MAPPING_DESCRIPTION } from '../../../net/session.ts';
import type { MappingProtocol, RouterTableEntry } from '../../../net/types.ts';

const PROTOCOL_NAMES: Record<MappingProtocol, string> = {
  pcp: 'PCP',
  natpmp: 'NAT-PMP',
  'upnp-igd2': 'UPnP IGD v2',
  'upnp-igd1': 'UPnP IGD v1',
};

type Label = 'https' | 'http';

/** The Router section of `chatroom doctor`. */
export const routerChecks: CheckGroup = async (ctx) => {
  const { config } = ctx;
  const state = readNetworkState(config.dataPath);
  const scheme = config.tls.mode === 'off' ? 'http' : 'https';
  const wanted: Array<{ label: Label; internalPort: number; preferred: number }> = [];
  if (config.port) wanted.push({ label: 'https', internalPort: config.port, preferred: scheme === 'https' ? 443 : 80 });
  if (config.httpPort && scheme === 'https') wanted.push({ label: 'http', internalPort: config.httpPort, preferred: 80 });
  const lookFor = (w: (typeof wanted)[number]) => [...new Set([state.lastExternalPorts?.[w.label] ?? w.preferred, w.preferred, w.internalPort])];

  // Not asked at all when chatroom would never map: `upnp: false` means "leave my router alone",
  // and a loopback-only server has nothing to forward.
  if (!config.upnp || isLoopbackHost(config.host)) {
    ctx.facts.router = { protocol: null, externalAddress: null, externalClass: 'none', mappings: [] };
    const why = !config.upnp ? 'off in the config (upnp: false), so the router is not asked' : `not needed: the server listens on ${config.host} only`;
    return [
      {
        id: 'router.portmapping',
        section: 'router',
        status: 'ok',
        title: 'Port mapping',
        value: why,
        details: { protocols: null, asked: false },
      },
    ];
  }

  const survey = await surveyRouter({ timeoutMs: ctx.timeoutMs, externalPorts: wanted.flatMap(lookFor) });
  const checks: Check[] = [];
  const lan = survey.localAddress ?? '<this computer’s LAN address>';

  if (!survey.gateway) {
    checks.push({
      id: 'router.gateway',
      section: 'router',
      status: 'warn',
      title: 'Router',
      value: 'no IPv4 default route: this computer is not on a network with a router',
      fix: ['Connect to your home network (Wi-Fi or cable), then run `chatroom doctor` again.'],
    });
  }

  const protocolList = survey.protocols.map((p) => PROTOCOL_NAMES[p]).join(', ');
  checks.push(
    survey.protocols.length
      ? {
          id: 'router.portmapping',
          section: 'router',
          status: 'ok',
          title: 'Port mapping',
          value: `${protocolList}${survey.upnpName ? ` (${terminalSafe(survey.upnpName)})` : ''}`,
          details: { protocols: survey.protocols },
        }
      : {
          id: 'router.portmapping',
          section: 'router',
          status: 'warn',
          title: 'Port mapping',
          value: 'the router answers none of PCP, NAT-PMP or UPnP',
          fix: [
            'Turn on UPnP (or NAT-PMP / PCP) in the router’s web page, usually under Advanced → NAT, UPnP or Port forwarding; then restart `chatroom start`.',
            `Or forward TCP port ${wanted.map((w) => w.internalPort).join(' and ')} by hand to ${lan} on the router’s port-forwarding page.`,
            'If a VPN is on, turn it off or forward the port on the VPN provider’s side: mapping requests cannot pass a VPN.',
          ],
          details: { protocols: [] },
        },
  );

  const mappings: NonNullable<DoctorFacts['router']>['mappings'] = [];
  if (survey.protocols.length) {
    for (const w of wanted) checks.push(mappingCheck(w, lookFor(w), survey, state, ctx.facts.serverRunning, lan, mappings));
  }

  if (state.lowPortsRefused) {
    const port = state.lastExternalPorts?.https ?? config.port;
    checks.push({
      id: 'router.lowports',
      section: 'router',
      status: 'warn',
      title: 'Low ports',
      value: `the router refused external port ${scheme === 'https' ? 443 : 80}, so the public address carries port ${port}`,
      fix: [
        `Nothing has to change: ${scheme}://${survey.externalAddress ?? '<public address>'}:${port} works.`,
        'For an address without a port, allow ports below 1024 in the router’s UPnP settings (OpenWrt: in /etc/config/upnpd change the `allow 1024-65535 …` rule’s first range to 0-65535, then `/etc/init.d/miniupnpd restart`),',
        `or forward external TCP 443 to ${lan}:${config.port} by hand on the router’s port-forwarding page.`,
      ],
      details: { refused: true },
    });
  }

  ctx.facts.router = {
    protocol: survey.protocols[0] ?? null,
    externalAddress: survey.externalAddress,
    externalClass: survey.externalClass,
    mappings,
    refusesLowPorts: state.lowPortsRefused ?? undefined,
  };
  return checks;
};

function mappingCheck(
  w: { label: Label; internalPort: number; preferred: number },
  externalPorts: number[],
  survey: RouterSurvey,
  state: ReturnType<typeof readNetworkState>,
  serverRunning: boolean | undefined,
  lan: string,
  facts: NonNullable<DoctorFacts['router']>['mappings'],
): Check {
  const id = `router.mapping.${w.label}`;
  const title = w.label === 'https' ? 'HTTPS mapping' : 'HTTP mapping';
  const base = { id, section: 'router' as const, title };

  if (survey.upnp) {
    const isOurs = (e: RouterTableEntry) => e.internalClient === survey.localAddress && e.internalPort === w.internalPort;
    const entryAt = (port: number | undefined) => (port ? survey.entries.get(port) : undefined) ?? null;
    const oursAt = externalPorts.find((port) => {
      const e = entryAt(port);
      return e !== null && isOurs(e);
    });
    // The port we would rather have (443/80) or had last time, held by someone else.
    const takenAt = [w.preferred, state.lastExternalPorts?.[w.label]].find((port) => {
      const e = entryAt(port);
      return e !== null && !isOurs(e);
    });
    const taken = entryAt(takenAt);
    const holder = taken ? (taken.internalClient === survey.localAddress ? `this computer’s port ${taken.internalPort}` : `another device (${terminalSafe(taken.internalClient)}:${taken.internalPort})`) : '';
    const freeIt = `Remove that forward on the router’s port-forwarding / UPnP page (or stop the program on that device that asked for it), then restart \`chatroom start\`.`;
    if (taken) facts.push({ protocol: 'tcp', externalPort: takenAt!, internalPort: taken.internalPort, internalClient: terminalSafe(taken.internalClient), ours: false });
    if (oursAt !== undefined) {
      const e = survey.entries.get(oursAt)!;
      facts.push({ protocol: 'tcp', externalPort: oursAt, internalPort: e.internalPort, internalClient: terminalSafe(e.internalClient), ours: true });
      const lease = e.leaseSeconds ? `, lease ${e.leaseSeconds} s left` : ', permanent';
      const value = `external ${oursAt} → this computer:${e.internalPort}${lease}`;
      const details = { externalPort: oursAt, internalPort: e.internalPort, ours: true, leaseSeconds: e.leaseSeconds };
      if (!taken || takenAt === oursAt) return { ...base, status: 'ok', value, details };
      return {
        ...base,
        status: 'warn',
        value: `${value}; external ${takenAt} is taken by ${holder}, so the address carries port ${oursAt}`,
        fix: [freeIt, `Or leave it: ${oursAt} works.`],
        details: { ...details, takenPort: takenAt },
      };
    }
    if (taken) {
      return {
        ...base,
        status: 'fail',
        value: `external port ${takenAt} is already forwarded to ${holder}${taken.description && taken.description !== MAPPING_DESCRIPTION ? ` (“${terminalSafe(taken.description)}”)` : ''}`,
        fix: [freeIt, `Or leave it: \`chatroom start\` then falls back to external port ${w.internalPort}.`],
        details: { externalPort: takenAt, ours: false },
      };
    }
  } else {
    // NAT-PMP and PCP have no way to list mappings: what the running server recorded is what we know.
    const rec = state.mappings.find((m) => m.label === w.label);
    if (rec && serverRunning && state.protocol && !state.protocol.startsWith('upnp')) {
      facts.push({ protocol: 'tcp', externalPort: rec.externalPort, internalPort: rec.internalPort, internalClient: survey.localAddress ?? '', ours: true });
      return { ...base, status: 'ok', value: `external ${rec.externalPort} → this computer:${rec.internalPort} (${PROTOCOL_NAMES[state.protocol]}, kept by the running server)`, details: { externalPort: rec.externalPort, ours: true } };
    }
  }

  if (!serverRunning) {
    return { ...base, status: 'ok', value: 'not mapped now: `chatroom start` maps it while the server runs', details: { mapped: false } };
  }
  return {
    ...base,
    status: 'warn',
    value: `the server is running but the router has no mapping for port ${w.internalPort}`,
    fix: [
      'Look at the lines `chatroom start` printed after “Press Ctrl+C to stop.”: they say what the router answered.',
      `Restart \`chatroom start\`, or forward TCP ${w.preferred} (or ${w.internalPort}) to ${lan}:${w.internalPort} by hand.`,
    ],
    details: { mapped: false },
  };
}
