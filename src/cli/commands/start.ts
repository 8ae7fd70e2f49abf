/** `chatroom start`: serves until SIGINT/SIGTERM, then closes connections, the store and exits 0. */
import { Command } from 'commander';
import QRCode from 'qrcode';
import { ChatroomError } from '../../shared/errors.ts';
import { configExists, configPath, loadConfig } from '../../config/load.ts';
import { loadOrCreateSecrets } from '../../config/secrets.ts';
import { startServer, type RunningServer } from '../../server/listen.ts';
import { createEventLog } from '../../log/eventlog.ts';
import { runInit, printLanVariant } from '../init-flow.ts';
import type { CliContext, StopSignal } from '../context.ts';
import { paint, shellQuote } from '../style.ts';
import { addConfigFlags, addDirOption, dirOf, overridesOf } from './shared.ts';
import type { CommandResult } from './index.ts';

export function startCommand(ctx: CliContext, result: CommandResult): Command {
  const cmd = new Command('start').description('Run the server (Ctrl+C stops it)');
  addDirOption(cmd);
  addConfigFlags(cmd);
  cmd.action(async (opts: Record<string, unknown>) => {
    result.code = await start(dirOf(opts, ctx), opts, ctx);
  });
  return cmd;
}

async function start(dir: string, opts: Record<string, unknown>, ctx: CliContext): Promise<number> {
  const p = paint(ctx);
  const out = (s = '') => ctx.stdout.write(s + '\n');
  const overrides = overridesOf(opts);

  if (!configExists(dir)) {
    if (!ctx.isTTY) {
      throw new ChatroomError('CONFIG_MISSING', `No chatroom.yaml in ${dir}: run \`chatroom init --dir ${shellQuote(dir)}\` first (add --yes to skip the questions).`, {
        file: configPath(dir),
      });
    }
    out(`No chatroom.yaml in ${dir} yet: let's create one.`);
    const code = await runInit({ dir, yes: false, force: false, overrides }, ctx);
    if (code !== 0) return code;
    out();
  }

  const { config, warnings } = loadConfig({ dir, env: ctx.env, overrides });
  for (const w of warnings) ctx.stderr.write(`${p.yellow('!')} ${w}\n`);
  const { secrets } = loadOrCreateSecrets(dir);
  const log = createEventLog({ write: (line) => ctx.stderr.write(line) });

  // Handlers go in before listening, so a signal during startup still closes everything.
  let stopRequests = 0;
  let server: RunningServer | null = null;
  let wake: () => void = () => {};
  const stopped = new Promise<void>((resolve) => (wake = resolve));
  const onSignal = (signal: StopSignal) => () => {
    stopRequests += 1;
    log.event('server.stopping', { signal });
    if (stopRequests > 1) {
      out('Stopping now: cutting open connections.');
      server?.forceClose();
    } else {
      out('Stopping… (press Ctrl+C again to cut open connections)');
    }
    wake();
  };
  const handlers = { SIGINT: onSignal('SIGINT'), SIGTERM: onSignal('SIGTERM') };
  ctx.signals.on('SIGINT', handlers.SIGINT);
  ctx.signals.on('SIGTERM', handlers.SIGTERM);

  try {
    server = await startServer(config, secrets, { log });
    for (const w of server.warnings) ctx.stderr.write(`${p.yellow('!')} ${w}\n`);
    if (stopRequests === 0) await printBanner(server, config, ctx);
    await stopped;
    await server.close();
    out('Stopped.');
    return 0;
  } finally {
    if (server) await server.close();
    ctx.signals.off('SIGINT', handlers.SIGINT);
    ctx.signals.off('SIGTERM', handlers.SIGTERM);
  }
}

async function printBanner(server: RunningServer, config: Parameters<typeof printLanVariant>[0], ctx: CliContext): Promise<void> {
  const p = paint(ctx);
  const out = (s = '') => ctx.stdout.write(s + '\n');
  out(`${p.green('✓')} ${p.bold(config.name)} is running.`);
  out(`Local:   ${server.localUrl}`);
  for (const url of server.lanUrls) out(`Network: ${url}`);
  if (server.httpPort) out(p.dim(`(HTTP port ${server.httpPort} redirects to HTTPS)`));
  // The QR code is for a phone's camera: only worth drawing on a terminal.
  if (ctx.isTTY && server.lanUrls[0]) {
    out();
    out(await QRCode.toString(server.lanUrls[0], { type: 'terminal', small: true }));
  }
  if (server.fingerprint) {
    out(`Certificate SHA-256 fingerprint: ${server.fingerprint}`);
    out(p.dim('  Browsers warn about this self-signed certificate: before accepting, check that they show this fingerprint.'));
  }
  if (server.setupLink) {
    out();
    out(`Admin setup link: ${server.setupLink}`);
    printLanVariant(config, server.setupLink, out);
    out(p.dim('  Open it to create the admin account (it works once).'));
  }
  out();
  out(p.dim('Press Ctrl+C to stop.'));
}
