// Builds the web client into dist/web: one ESM bundle, the passphrase-KDF Worker, the stylesheets,
// and an index.html whose every script and stylesheet carries a Subresource Integrity hash (the CSP
// allows no inline code). A Worker cannot carry an integrity attribute, so the app bundle embeds
// the Worker's hash and fetches it with `integrity` before starting it (e2ee/kdf-worker.ts).
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const out = join(root, 'dist', 'web');

/** `integrity` value for a file's bytes. */
function sri(path) {
  return `sha384-${createHash('sha384').update(readFileSync(path)).digest('base64')}`;
}

/** Adds integrity + crossorigin to every <script src> and <link rel=stylesheet href> pointing at our files. */
function withIntegrity(html) {
  const tag = /<(script|link)\b([^>]*?)\s(src|href)="\/([^"?#]+)"([^>]*)>/g;
  return html.replace(tag, (whole, name, before, attr, file, after) => {
    if (name === 'link' && !/rel="stylesheet"/.test(before + after)) return whole;
    if (/integrity=/.test(before + after)) throw new Error(`index.html: ${file} already has an integrity attribute`);
    return `<${name}${before} ${attr}="/${file}" integrity="${sri(join(out, file))}" crossorigin="anonymous"${after}>`;
  });
}

/**
 * The client imports a few constants from src/shared/{api,protocol}.ts, whose TypeBox schema
 * builders run at module load. They are pure, so mark them: the unused schemas (and ~45 KB of
 * TypeBox) then drop out of the bundle. The server's copy is untouched.
 */
const pureSchemas = {
  name: 'pure-schemas',
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/]shared[\\/](api|protocol)\.ts$/ }, (args) => ({
      contents: readFileSync(args.path, 'utf8').replace(/(?<![\w.])Type\.(?=[A-Z]\w*\()/g, '/* @__PURE__ */ Type.'),
      loader: 'ts',
    }));
  },
};

async function main() {
  const started = performance.now();
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const common = { bundle: true, format: 'esm', minify: true, target: 'es2022', legalComments: 'none', sourcemap: false, tsconfig: join(root, 'tsconfig.json'), logLevel: 'warning' };
  const worker = await build({ ...common, entryPoints: [join(here, 'src', 'crypto', 'recovery-worker.ts')], outfile: join(out, 'recovery-worker.js') });
  if (worker.warnings.length) throw new Error(`esbuild (worker): ${worker.warnings.length} warning(s), see above`);
  const result = await build({
    ...common,
    entryPoints: [join(here, 'src', 'main.ts')],
    outfile: join(out, 'app.js'),
    plugins: [pureSchemas],
    define: { RECOVERY_WORKER_INTEGRITY: JSON.stringify(sri(join(out, 'recovery-worker.js'))) },
  });
  // Warnings here are bugs (duplicate members, bad imports): fail rather than ship them.
  if (result.warnings.length) throw new Error(`esbuild: ${result.warnings.length} warning(s), see above`);
  for (const name of readdirSync(join(here, 'styles'))) {
    if (name.endsWith('.css')) copyFileSync(join(here, 'styles', name), join(out, name));
  }
  for (const name of readdirSync(join(here, 'public'))) copyFileSync(join(here, 'public', name), join(out, name));
  const html = withIntegrity(readFileSync(join(here, 'index.html'), 'utf8'));
  if (/<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle=/i.test(html)) throw new Error('index.html: inline script or style is not allowed (CSP)');
  writeFileSync(join(out, 'index.html'), html);
  console.log(`web client built in ${Math.round(performance.now() - started)} ms → ${out}`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
