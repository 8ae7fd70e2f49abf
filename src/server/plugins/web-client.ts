/**
 * Serves the built web client (dist/web). Single-page routes answer index.html, never cached so an
 * upgrade takes effect on the next load. Without a build the app shell answers 503 with the fix.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import fastifyStatic from '@fastify/static';

/** Paths the client router owns. */
const SPA_ROUTES = ['/', '/signin', '/setup/*', '/invite/*', '/c/*'];

export async function registerWebClient(app: FastifyInstance, webRoot: string): Promise<void> {
  await app.register(fastifyStatic, { root: webRoot, prefix: '/', index: false, dotfiles: 'ignore', wildcard: true });

  const sendShell = (reply: FastifyReply) => {
    if (!existsSync(join(webRoot, 'index.html'))) {
      return reply
        .code(503)
        .type('text/plain; charset=utf-8')
        .header('Cache-Control', 'no-store')
        .send('The web client is not built: run npm run build\n');
    }
    return reply.header('Cache-Control', 'no-cache').sendFile('index.html', { cacheControl: false });
  };
  for (const url of SPA_ROUTES) app.get(url, (_request, reply) => sendShell(reply));
}
