/**
 * Minimal HTTP/1.1 for the router's description and SOAP control URLs: no keep-alive (a router's
 * tiny web server often mishandles it, and nothing stays open), a whole-exchange time budget and a
 * size cap on the answer.
 */
import { request } from 'node:http';

const MAX_BODY_BYTES = 256 * 1024;

export interface LanHttpAnswer {
  status: number;
  body: string;
}

/** GET or POST `url`; rejects with 'timeout' or the socket error, resolves with any status. */
export function lanHttp(url: string, opts: { method?: 'GET' | 'POST'; headers?: Record<string, string>; body?: string; timeoutMs: number }): Promise<LanHttpAnswer> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    if (u.protocol !== 'http:') return reject(new Error(`unsupported URL scheme ${u.protocol}`));
    const body = opts.body === undefined ? undefined : Buffer.from(opts.body);
    const req = request(
      {
        host: u.hostname,
        port: u.port || 80,
        path: u.pathname + u.search,
        method: opts.method ?? 'GET',
        agent: false,
        headers: { Connection: 'close', ...(body ? { 'Content-Length': String(body.length) } : {}), ...opts.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_BODY_BYTES) req.destroy(new Error('router answer too large'));
          else chunks.push(c);
        });
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', fail);
      },
    );
    const fail = (err: Error) => {
      clearTimeout(timer);
      reject(err);
    };
    const timer = setTimeout(() => req.destroy(new Error('timeout')), opts.timeoutMs);
    req.on('error', fail);
    req.end(body);
  });
}
