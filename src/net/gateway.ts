/**
 * Which router to talk to: the IPv4 default gateway (NAT-PMP and PCP go there, RFC 6886 §3) and
 * this host's own address towards it (the "internal client" of every mapping).
 */
import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readFile } from 'node:fs/promises';
import { isIPv4 } from 'node:net';

/** The IPv4 default gateway, or null when there is none (or it cannot be read in `timeoutMs`). */
export async function defaultGateway(timeoutMs = 2000): Promise<string | null> {
  if (process.platform === 'linux') return linuxGateway();
  if (process.platform === 'darwin') return parseRouteGet(await run('route', ['-n', 'get', 'default'], timeoutMs));
  if (process.platform === 'win32') return parseWindowsRoutePrint(await run('route', ['print', '-4', '0.0.0.0'], timeoutMs));
  return null;
}

async function linuxGateway(): Promise<string | null> {
  try {
    return parseProcNetRoute(await readFile('/proc/net/route', 'utf8'));
  } catch {
    return null;
  }
}

/** Parses /proc/net/route: the default route (destination and mask 0) with the lowest metric. */
export function parseProcNetRoute(text: string): string | null {
  let best: { gw: string; metric: number } | null = null;
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const [, dest, gwHex, flags, , , metric, mask] = f;
    // RTF_UP (1) | RTF_GATEWAY (2)
    if (dest !== '00000000' || mask !== '00000000' || (parseInt(flags!, 16) & 3) !== 3) continue;
    const n = parseInt(gwHex!, 16); // little-endian on every Linux Node runs on
    const gw = [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255].join('.');
    const m = Number(metric);
    if (!best || m < best.metric) best = { gw, metric: m };
  }
  return best?.gw ?? null;
}

/** Parses macOS `route -n get default` ("gateway: 192.168.1.1"). */
export function parseRouteGet(text: string): string | null {
  const m = /gateway:\s*(\d+\.\d+\.\d+\.\d+)/.exec(text);
  return m ? m[1]! : null;
}

/** Parses Windows `route print -4 0.0.0.0` (a row "0.0.0.0  0.0.0.0  <gateway>  <interface>  <metric>"). */
export function parseWindowsRoutePrint(text: string): string | null {
  const m = /^\s*0\.0\.0\.0\s+0\.0\.0\.0\s+(\d+\.\d+\.\d+\.\d+)\s/m.exec(text);
  return m ? m[1]! : null;
}

function run(cmd: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, windowsHide: true }, (err, stdout) => resolve(err ? '' : String(stdout)));
  });
}

/**
 * This host's address on the path to `peer`: connecting a UDP socket picks the source address
 * from the routing table without sending a packet.
 */
export function localAddressTowards(peer: string, port = 5351): Promise<string | null> {
  if (!isIPv4(peer)) return Promise.resolve(null);
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.on('error', () => {
      socket.close();
      resolve(null);
    });
    socket.connect(port, peer, () => {
      const address = socket.address().address;
      socket.close();
      resolve(address && address !== '0.0.0.0' ? address : null);
    });
  });
}
