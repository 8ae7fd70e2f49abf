/**
 * What `chatroom start` does: load the config (or run init first on a terminal), start the
 * server, print where it is, ask the router to forward the ports, and on SIGINT/SIGTERM remove
 * the port mappings and close everything.
 */
import { ChatroomError } from '../shared/errors.ts';
import { configExists, configPath, loadConfig } from '../config/load.ts';
import { loadOrCreateSecrets } from '../config/secrets.ts';
import { startServer, type RunningServer } from '../server/listen.ts';
import { createEventLog } from '../log/eventlog.ts';
import { printBanner } from './banner.ts';
import type { CliContext } from './context.ts';
import type { StopRequests } from './stop.ts';
import { paint, shellQuote } from './style.ts';
import type { Override } from '../config/flags.ts';
import type { RunningMapping } from '../net/start-mapping.ts';
import { isLoopbackHost } from '../tls/addresses.ts';
import { readNetworkState, updateNetworkState } from '../net/state.ts';

/** Test-only: shortens the port-mapping lease (seconds) so renewal can be watched. */
export const TEST_LEASE_ENV = 'CHATROOM_TEST_PORTMAP_LEASE_SECONDS';

/** Runs the server until a stop signal; resolves with the exit code. */
export async function runStart(dir: string, overrides: Override[], ctx: CliContext, stop: StopRequests): Promise<number> {
  const p = paint(ctx);
  const out = (s = '') => ctx.stdout.write(s + '\n');

  if (!configExists(dir)) {
    if (!ctx.isTTY) {
      throw new ChatroomError('CONFIG_MISSING', `No chatroom.yaml in ${dir}: run \`chatroom init --dir ${shellQuote(dir)}\` first (add --yes to skip the questions).`, {
        file: configPath(dir),
      });
    }
    out(`No chatroom.yaml in ${dir} yet: let's create one.`);
    const { runInit } = await import('./init-flow.ts');
    const code = await runInit({ dir, yes: false, force: false, overrides }, ctx);
    if (code !== 0) return code;
    out();
  }

  const { config, warnings } = loadConfig({ dir, env: ctx.env, overrides });
  for (const w of warnings) ctx.stderr.write(`${p.yellow('!')} ${w}\n`);
  const { secrets } = loadOrCreateSecrets(dir);
  const log = createEventLog({ write: (line) => ctx.stderr.write(line) });

  let server: RunningServer | null = null;
  // Created only after the stop listener below exists, and closed before the server: every
  // mapping made (or in flight) when a signal comes is removed before we exit.
  let mapping: RunningMapping | null = null;
  let secondSignal: () => void = () => {};
  const impatient = new Promise<void>((resolve) => (secondSignal = resolve));
  stop.onSignal((signal, count) => {
    log.event('server.stopping', { signal });
    if (count > 1) {
      secondSignal();
      out('Stopping now: cutting open connections.');
      server?.forceClose();
    } else {
      out('Stopping… (press Ctrl+C again to cut open connections)');
    }
  });
  if (stop.count > 0) return 0;

  try {
    server = await startServer(config, secrets, { log, progress: (line) => out(p.dim(line)) });
    for (const w of server.warnings) ctx.stderr.write(`${p.yellow('!')} ${w}\n`);
    if (stop.count === 0) await printBanner(server, config, ctx);
    if (stop.count === 0 && config.upnp && !isLoopbackHost(config.host)) {
      const { startPortMapping } = await import('../net/start-mapping.ts');
      if (stop.count === 0) {
        const lease = Number(ctx.env[TEST_LEASE_ENV]);
        mapping = startPortMapping({
          dataPath: config.dataPath,
          scheme: config.tls.mode === 'off' ? 'http' : 'https',
          port: server.port,
          httpPort: server.httpPort,
          leaseSeconds: Number.isInteger(lease) && lease >= 2 ? lease : undefined,
          log,
          say: (line) => out(line),
          warn: (line) => ctx.stderr.write(`${p.yellow('!')} ${line}\n`),
          note: (line) => out(p.dim(line)),
        });
      }
    }
    const announced = mapping ? mapping.ready.then(() => undefined) : Promise.resolve();
    // After the mapping lines, so the public URL is not buried under the firewall commands.
    // A loopback-only server is not reachable from other devices whatever the firewall says.
    if (!isLoopbackHost(config.host)) void announced.then(() => printFirewallOnce(config.dataPath, server!, ctx, () => stop.count === 0)).catch(() => undefined);
    await stop.first;
    if (mapping) {
      out('Removing the port mappings…');
      // A second Ctrl+C stops waiting for a slow router: the short lease ends the mappings anyway.
      await Promise.race([mapping.close(), impatient]);
    }
    await server.close();
    out('Stopped.');
    return 0;
  } finally {
    if (mapping) await Promise.race([mapping.close(), impatient]);
    if (server) await server.close();
  }
}

/**
 * The host firewall's commands for this OS, once: at the first start of this data directory, and
 * again at every start while the firewall is seen blocking our ports (the check doctor runs too).
 */
async function printFirewallOnce(dataPath: string, server: RunningServer, ctx: CliContext, running: () => boolean): Promise<void> {
  if (!running()) return;
  const { currentFirewallOs, detectFirewall, firewallInstructions } = await import('./firewall/index.ts');
  const os = currentFirewallOs();
  const ports = { https: server.port, http: server.httpPort };
  const state = await detectFirewall(os, server.httpPort ? [server.port, server.httpPort] : [server.port]).catch(() => null);
  const blocking = state?.allowsPorts === false;
  if (!blocking && readNetworkState(dataPath).firewallInstructionsShown) return;
  const p = paint(ctx);
  const text = await firewallInstructions({ os, ports });
  if (!running()) return;
  ctx.stdout.write(
    '\n' +
      (blocking
        ? `${p.yellow('!')} The ${state!.kind} firewall blocks port ${state!.blockedPorts.join(', ') || server.port}: other devices cannot connect until it lets them in.\n`
        : p.dim('If other devices cannot connect, let the ports in through this computer’s firewall (shown once; `chatroom firewall` shows it again):\n')) +
      text.replace(/\n?$/, '\n'),
  );
  updateNetworkState(dataPath, (s) => void (s.firewallInstructionsShown = true));
}
