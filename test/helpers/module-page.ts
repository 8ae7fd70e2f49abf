/**
 * Serves one web-client module, bundled by esbuild as a global, on a blank page at 127.0.0.1 (a
 * secure context, so the page has Web Crypto): for running client code in Chromium from a test or
 * a benchmark without the whole app.
 */
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import { build } from 'esbuild';

/** Bundles `modulePath` as `globalThis[globalName]` and serves it; close the server when done. */
export async function serveModulePage(modulePath: string, globalName: string): Promise<{ url: string; server: Server }> {
  const bundle = await build({
    stdin: { contents: `export * from ${JSON.stringify(modulePath)};`, resolveDir: process.cwd(), loader: 'ts' },
    bundle: true,
    format: 'iife',
    globalName,
    write: false,
  });
  const js = bundle.outputFiles[0].text;
  const server = createServer((req, res) => {
    if (req.url === '/module.js') return res.writeHead(200, { 'content-type': 'text/javascript' }).end(js);
    res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><script src="/module.js"></script>');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('no address');
  return { url: `http://127.0.0.1:${addr.port}/`, server };
}
