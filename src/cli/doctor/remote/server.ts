/**
 * The short-lived HTTPS listener of `doctor --remote`: per one-time token a page, its script, a
 * WebSocket endpoint (handshake only: the phone measures how long the upgrade takes) and a report
 * endpoint. Strict CSP, no inline code, nothing logged. A used token answers 410.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';

/** What the phone posts back (validated). */
export interface PhoneReport {
  secure: boolean;
  /** ms from navigation start to the script running. */
  loadMs: number;
  /** ms for the WebSocket upgrade; null when it failed. */
  wsMs: number | null;
  wsError: string | null;
}

export interface RemoteServerOptions {
  host: string;
  port: number;
  cert: string;
  key: string;
  /** token → step name; each token works until its report arrives (the listener deletes it then). */
  tokens: Map<string, string>;
  onReport(step: string, report: PhoneReport): void;
}

export interface RemoteServer {
  port: number;
  close(): Promise<void>;
}

/** Largest report body, bytes. */
const MAX_BODY_BYTES = 2048;
const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

let scriptCache: string | null = null;

/** The compiled page script (dist); from src (tests under tsx) it is transpiled on first use. */
async function pageScript(): Promise<string> {
  if (scriptCache) return scriptCache;
  const js = fileURLToPath(new URL('./page-script.js', import.meta.url));
  if (existsSync(js)) return (scriptCache = readFileSync(js, 'utf8'));
  const ts = fileURLToPath(new URL('./page-script.ts', import.meta.url));
  const esbuild = await import('esbuild');
  return (scriptCache = (await esbuild.transform(readFileSync(ts, 'utf8'), { loader: 'ts', format: 'esm', target: 'es2022' })).code);
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(step: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>chatroom doctor: phone check</title>
<script type="module" src="check.js"></script>
</head>
<body>
<h1>chatroom doctor</h1>
<p>Phone check: ${escapeHtml(step)}</p>
<p id="status" role="status">Loading…</p>
<noscript>This check needs JavaScript.</noscript>
</body>
</html>
`;
}

const HEADERS: Record<string, string> = {
  'Content-Security-Policy': "default-src 'none'; script-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
};

function isReport(v: unknown): v is PhoneReport {
  if (!v || typeof v !== 'object') return false;
  const r = v as Record<string, unknown>;
  const msOrNull = (x: unknown) => x === null || (typeof x === 'number' && Number.isFinite(x) && x >= 0 && x < 3_600_000);
  return (
    typeof r.secure === 'boolean' &&
    typeof r.loadMs === 'number' &&
    msOrNull(r.loadMs) &&
    msOrNull(r.wsMs) &&
    (r.wsError === null || (typeof r.wsError === 'string' && r.wsError.length < 200))
  );
}

/** Listens; rejects with the listen error (e.g. EADDRINUSE). */
export async function startRemoteServer(opts: RemoteServerOptions): Promise<RemoteServer> {
  const script = await pageScript();
  const route = (url: string | undefined): { token: string; rest: string } | null => {
    const m = /^\/r\/([A-Za-z0-9_-]{16,64})\/([a-z.]*)$/.exec((url ?? '').split('?')[0]!);
    return m ? { token: m[1]!, rest: m[2]! } : null;
  };

  const server: Server = createServer({ cert: opts.cert, key: opts.key }, (req: IncomingMessage, res: ServerResponse) => {
    const r = route(req.url);
    const step = r ? opts.tokens.get(r.token) : undefined;
    if (!r || step === undefined) {
      res.writeHead(r ? 410 : 404, { 'Content-Type': 'text/plain; charset=utf-8', ...HEADERS });
      res.end(r ? 'This check link was used already or has expired: run chatroom doctor --remote again.\n' : 'Not found\n');
      return;
    }
    const h = HEADERS;
    if (req.method === 'GET' && r.rest === '') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', ...h });
      res.end(page(step));
    } else if (req.method === 'GET' && r.rest === 'check.js') {
      res.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8', ...h });
      res.end(script);
    } else if (req.method === 'POST' && r.rest === 'report') {
      // The token is taken before the body arrives, so of two reports at once only one counts (the
      // other gets 410). A report that turns out malformed, or never finishes, gives it back.
      if (!opts.tokens.delete(r.token)) {
        res.writeHead(410, { 'Content-Type': 'text/plain; charset=utf-8', ...h });
        res.end('This check link was used already: run chatroom doctor --remote again.\n');
        return;
      }
      let settled = false;
      const giveBack = () => {
        if (settled) return;
        settled = true;
        opts.tokens.set(r.token, step);
      };
      req.on('close', giveBack);
      let body = '';
      let tooBig = false;
      let seen = 0;
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => {
        // Past the limit the rest is read and dropped, so the 400 still reaches the sender; a flood is cut.
        seen += chunk.length;
        if (seen > 32 * MAX_BODY_BYTES) req.destroy();
        else if (tooBig || body.length + chunk.length > MAX_BODY_BYTES) tooBig = true;
        else body += chunk;
      });
      req.on('end', () => {
        let parsed: unknown;
        try {
          parsed = JSON.parse(body);
        } catch {
          parsed = null;
        }
        if (tooBig || !isReport(parsed)) {
          giveBack();
          res.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8', ...h });
          res.end('Bad report\n');
          return;
        }
        settled = true;
        res.writeHead(204, h);
        res.end();
        opts.onReport(step, parsed);
      });
    } else {
      res.writeHead(405, { 'Content-Type': 'text/plain; charset=utf-8', ...h });
      res.end('Method not allowed\n');
    }
  });
  server.on('upgrade', (req: IncomingMessage, socket: Socket) => {
    const r = route(req.url);
    const key = req.headers['sec-websocket-key'];
    if (!r || r.rest !== 'ws' || !opts.tokens.has(r.token) || typeof key !== 'string') {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    const accept = createHash('sha1').update(key + WS_GUID).digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    // The phone closes right after `open`; nothing is read from it.
    socket.on('data', () => socket.destroy());
    socket.on('error', () => socket.destroy());
    socket.setTimeout(15_000, () => socket.destroy());
  });
  server.on('clientError', (_err, socket) => socket.destroy());

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: opts.host, port: opts.port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as { port: number }).port;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
