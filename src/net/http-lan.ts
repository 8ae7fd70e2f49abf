/**
 * Minimal HTTP/1.1 for the router's description and SOAP control URLs: no keep-alive (a router's
 * tiny web server often mishandles it, and nothing stays open), a whole-exchange time budget and a
 * size cap on the answer.
 */
import { request } from 'node:http';

/** The answer was over the caller's byte cap; the rest was not read. */
export class LanAnswerTooLarge extends Error {
  constructor(readonly maxBytes: number) {
    super(`the router's answer is larger than ${Math.round(maxBytes / 1024)} KiB, so it was not read`);
  }
}

export interface LanHttpAnswer {
  status: number;
  body: string;
}

/**
 * GET or POST `url`; rejects with 'timeout', LanAnswerTooLarge (a body over `maxBytes`, also when
 * Content-Length announces it) or the socket error; resolves with any status.
 */
export function lanHttp(url: string, opts: { method?: 'GET' | 'POST'; headers?: Record<string, string>; body?: string; timeoutMs: number; maxBytes: number }): Promise<LanHttpAnswer> {
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
        res.on('error', fail);
        const chunks: Buffer[] = [];
        let size = 0;
        const announced = Number(res.headers['content-length']);
        if (announced > opts.maxBytes) return void req.destroy(new LanAnswerTooLarge(opts.maxBytes));
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > opts.maxBytes) req.destroy(new LanAnswerTooLarge(opts.maxBytes));
          else chunks.push(c);
        });
        res.on('end', () => {
          if (size > opts.maxBytes) return;
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
        });
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
