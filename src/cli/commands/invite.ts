/** `chatroom invite`: a new one-time invite link, also while the server runs (SQLite WAL). */
import { Command } from 'commander';
import { ChatroomError } from '../../shared/errors.ts';
import { loadConfig } from '../../config/load.ts';
import { baseUrl } from '../../config/urls.ts';
import { openStore } from '../../store/index.ts';
import { createInviteLink } from '../../server/invites.ts';
import { printLanVariant } from '../init-flow.ts';
import type { CliContext } from '../context.ts';
import { durationInWords, paint } from '../style.ts';
import { addDirOption, dirOf } from './shared.ts';
import type { CommandResult } from './index.ts';

export function inviteCommand(ctx: CliContext, result: CommandResult): Command {
  const cmd = new Command('invite').description('Print a new one-time invite link');
  addDirOption(cmd);
  cmd.option('--server <id>', 'the invitee also joins this server (besides the default one)');
  cmd.action(async (opts: { dir?: string; server?: string }) => {
    result.code = await invite(dirOf(opts, ctx), opts.server ?? null, ctx);
  });
  return cmd;
}

async function invite(dir: string, serverId: string | null, ctx: CliContext): Promise<number> {
  const p = paint(ctx);
  const out = (s = '') => ctx.stdout.write(s + '\n');
  const { config, warnings } = loadConfig({ dir, env: ctx.env });
  for (const w of warnings) ctx.stderr.write(`${p.yellow('!')} ${w}\n`);
  if (config.registration === 'closed') {
    ctx.stderr.write(`${p.yellow('!')} registration is closed in ${dir}/chatroom.yaml: nobody can sign up with this link until you set registration: invite.\n`);
  }

  const store = await openStore(config);
  try {
    await store.migrate();
    if (serverId && !(await store.getServer(serverId))) {
      throw new ChatroomError('USAGE', `No server with id ${JSON.stringify(serverId)} in ${dir}. Leave out --server to invite to the default server.`);
    }
    const created = await createInviteLink(store, baseUrl(config), { kind: 'invite', serverId, ttlHours: config.inviteTtlHours });
    out(`Invite link: ${created.url}`);
    printLanVariant(config, created.url, out);
    out(p.dim(`It works once and expires in ${durationInWords(created.expiresAt - Date.now())} (${new Date(created.expiresAt).toUTCString()}).`));
    return 0;
  } finally {
    await store.close();
  }
}
