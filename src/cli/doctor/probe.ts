/**
 * Port probes that change nothing: does something accept connections on a port, is it a chatroom,
 * which program owns it, and could we bind it. Every probe has a time budget (ms).
 */
import { connect, createServer } from 'node:net';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { platform } from 'node:os';
import { runTool } from '../firewall/run-tool.ts';

/** True when a TCP connect to host:port succeeds within timeoutMs. */
export function acceptsConnections(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One GET; null on any error or timeout. Certificates are not checked (the self-signed one is ours). */
export function get(url: string, timeoutMs: number): Promise<HttpAnswer | null> {
  return new Promise((resolve) => {
    const make = url.startsWith('https:') ? httpsRequest : httpRequest;
    // One deadline for connect, handshake and answer (a program that never speaks TLS would stall the handshake).
    const timer = setTimeout(() => {
      req.destroy();
      resolve(null);
    }, timeoutMs);
    const finish = (answer: HttpAnswer | null) => {
      clearTimeout(timer);
      resolve(answer);
    };
    const req = make(url, { method: 'GET', rejectUnauthorized: false, headers: { 'user-agent': 'chatroom-doctor' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (body.length < 4096) body += chunk;
      });
      res.on('end', () => finish({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', () => finish(null));
    });
    req.on('error', () => finish(null));
    req.end();
  });
}

function hostPart(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** A chatroom answers GET /healthz with 200 and `{"ok":true}`. */
export async function isChatroom(host: string, port: number, tls: boolean, timeoutMs: number): Promise<boolean> {
  const answer = await get(`${tls ? 'https' : 'http'}://${hostPart(host)}:${port}/healthz`, timeoutMs);
  if (!answer || answer.status !== 200) return false;
  try {
    return (JSON.parse(answer.body) as { ok?: unknown }).ok === true;
  } catch {
    return false;
  }
}

/** chatroom's HTTP port answers with a 301 to the HTTPS port. */
export async function isChatroomRedirect(host: string, port: number, httpsPort: number, timeoutMs: number): Promise<boolean> {
  const answer = await get(`http://${hostPart(host)}:${port}/`, timeoutMs);
  const location = String(answer?.headers.location ?? '');
  return answer?.status === 301 && location.startsWith('https://') && (httpsPort === 443 || location.includes(`:${httpsPort}/`));
}

export type BindResult = 'free' | 'EADDRINUSE' | 'EACCES' | 'EADDRNOTAVAIL' | string;

/** Binds host:port for a moment and closes it again: 'free', or the error code. */
export function tryBind(host: string, port: number): Promise<BindResult> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve('free')));
  });
}

export interface PortOwner {
  name: string;
  pid: number | null;
}

/**
 * The program listening on a TCP port, when the OS tells us: `ss -ltnp` (Linux; other users'
 * processes only as root), `lsof` (macOS), Get-NetTCPConnection (Windows). Null when it won't say.
 */
export async function portOwner(port: number, timeoutMs: number, env?: Record<string, string | undefined>): Promise<PortOwner | null> {
  const os = platform();
  if (os === 'linux') {
    const r = await runTool('ss', ['-H', '-ltnp', `sport = :${port}`], { timeoutMs, env });
    const m = r.stdout.match(/users:\(\("([^"]+)",pid=(\d+)/);
    return m ? { name: m[1]!, pid: Number(m[2]) } : null;
  }
  if (os === 'darwin') {
    const r = await runTool('lsof', ['-nP', `-iTCP:${port}`, '-sTCP:LISTEN', '-Fpc'], { timeoutMs, env });
    const pid = r.stdout.match(/^p(\d+)/m)?.[1];
    const name = r.stdout.match(/^c(.+)$/m)?.[1];
    return name ? { name, pid: pid ? Number(pid) : null } : null;
  }
  if (os === 'win32') {
    const r = await runTool(
      'powershell',
      ['-NoProfile', '-Command', `$c = Get-NetTCPConnection -LocalPort ${port} -State Listen -ErrorAction SilentlyContinue | Select-Object -First 1; if ($c) { "$($c.OwningProcess) $((Get-Process -Id $c.OwningProcess).ProcessName)" }`],
      { timeoutMs: Math.max(timeoutMs, 8000), env },
    );
    const m = r.stdout.trim().match(/^(\d+)\s+(.+)$/);
    return m ? { name: m[2]!, pid: Number(m[1]) } : null;
  }
  return null;
}

/** The command a person runs to see who holds a port on this OS. */
export function whoHasPortCommand(port: number): string {
  const os = platform();
  if (os === 'darwin') return `sudo lsof -nP -iTCP:${port} -sTCP:LISTEN`;
  if (os === 'win32') return `Get-NetTCPConnection -LocalPort ${port} -State Listen | ForEach-Object { Get-Process -Id $_.OwningProcess }`;
  return `sudo ss -ltnp 'sport = :${port}'`;
}
