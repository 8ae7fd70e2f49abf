/** What `chatroom firewall` does: the ports from chatroom.yaml (or the defaults), rendered for one OS. */
import { configExists, loadConfig } from '../../config/load.ts';
import { withDefaults } from '../../config/defaults.ts';
import type { Config } from '../../config/schema.ts';
import type { CliContext } from '../context.ts';
import { paint } from '../style.ts';
import { currentFirewallOs, firewallInstructions, type FirewallOs } from './index.ts';
import type { FirewallPorts } from './render.ts';

/** The TCP ports chatroom listens on for `config`: HTTPS (or HTTP with tls off) and the redirect port. */
export function firewallPorts(config: Pick<Config, 'port' | 'httpPort' | 'tls'>): FirewallPorts {
  const defaults = withDefaults();
  // Port 0 means "any free port": the instructions show the default, which start prints when it differs.
  const https = config.port || defaults.port;
  const http = config.tls.mode === 'off' || config.httpPort === 0 ? null : config.httpPort;
  return { https, http };
}

/** Prints the instructions; resolves with the exit code. */
export async function runFirewall(dir: string, os: FirewallOs | null, ctx: CliContext): Promise<number> {
  const p = paint(ctx);
  let config: Pick<Config, 'port' | 'httpPort' | 'tls'> = withDefaults();
  if (configExists(dir)) {
    const loaded = loadConfig({ dir, env: ctx.env });
    for (const w of loaded.warnings) ctx.stderr.write(`${p.yellow('!')} ${w}\n`);
    config = loaded.config;
  }
  ctx.stdout.write(await firewallInstructions({ os: os ?? currentFirewallOs(), ports: firewallPorts(config) }));
  return 0;
}
