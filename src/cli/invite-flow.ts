/** What `chatroom invite` does: a new one-time invite link from the same database the server uses. */
import { ChatroomError } from '../shared/errors.ts';
import { loadConfig } from '../config/load.ts';
import { baseUrl } from '../config/urls.ts';
import { openStore } from '../store/index.ts';
import { createInviteLink } from '../server/invites.ts';
import { storedSelfSignedFingerprint } from '../tls/fingerprint.ts';
import { printLanVariant } from './links.ts';
import type { CliContext } from './context.ts';
import type { Override } from '../config/flags.ts';
import { durationInWords, paint } from './style.ts';

/** Creates and prints the link; resolves with the exit code. */
export async function runInvite(dir: string, serverId: string | null, ctx: CliContext, overrides: Override[] = []): Promise<number> {
  const p = paint(ctx);
  const out = (s = '') => ctx.stdout.write(s + '\n');
  const { config, warnings } = loadConfig({ dir, env: ctx.env, overrides });
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
    const created = await createInviteLink(store, baseUrl(config), { kind: 'invite', serverId, ttlHours: config.inviteTtlHours, fingerprint: storedSelfSignedFingerprint(config) });
    out(`Invite link: ${created.url}`);
    printLanVariant(config, created.url, out);
    out(p.dim(`It works once and expires in ${durationInWords(created.expiresAt - Date.now())} (${new Date(created.expiresAt).toUTCString()}).`));
    return 0;
  } finally {
    await store.close();
  }
}
