/**
 * Sign-up, sign-in and the salt lookup, independent of HTTP. Unknown usernames get a fake salt and
 * a dummy argon2 verification, so neither answers nor timing reveal which accounts exist.
 */
import type { FastifyInstance } from 'fastify';
import type { User } from '../../store/types.ts';
import type { AuthParams, RegisterRequest } from '../../shared/api.ts';
import { ChatroomError } from '../../shared/errors.ts';
import { hashToken } from './tokens.ts';
import { fakeSalt, FAKE_ITERATIONS } from './fake-salt.ts';
import { hashLoginKey, needsRehash, verifyAgainstDummy, verifyLoginKey } from './password.ts';

type Deps = FastifyInstance['deps'];

const SALT_BYTES = 16;
const LOGIN_KEY_BYTES = 32;

/** Decodes standard base64 that must hold exactly `bytes` bytes; BAD_REQUEST names the field. */
function decodeExact(b64: string, bytes: number, field: string): Uint8Array {
  const buf = Buffer.from(b64, 'base64');
  if (buf.length !== bytes || buf.toString('base64') !== b64) {
    throw new ChatroomError('BAD_REQUEST', `body.${field} must be base64 of exactly ${bytes} bytes.`);
  }
  return new Uint8Array(buf);
}

/** Salt and iterations for the client's KDF: the real ones, or stable fake ones. */
export async function authParams(deps: Deps, username: string): Promise<AuthParams> {
  const user = await deps.store.getUserByUsername(username);
  const creds = user ? await deps.store.getCredentials(user.id) : null;
  if (creds) return { salt: Buffer.from(creds.salt).toString('base64'), iterations: creds.iterations };
  return { salt: Buffer.from(fakeSalt(deps.secrets.saltKey, username)).toString('base64'), iterations: FAKE_ITERATIONS };
}

/**
 * Creates an account. The setup link makes the instance owner (and the default server named after
 * the instance); otherwise `registration` decides: invite (link required), open, closed (nobody).
 * Every account joins the default server, plus the invite's server if it names one.
 */
export async function registerAccount(deps: Deps, input: RegisterRequest): Promise<User> {
  const { store, config } = deps;
  const now = deps.now();
  const salt = decodeExact(input.salt, SALT_BYTES, 'salt');
  const loginKey = decodeExact(input.loginKey, LOGIN_KEY_BYTES, 'loginKey');

  const invite = input.invite ? await store.getUsableInvite(hashToken(input.invite), now) : null;
  if (input.invite && !invite) throw new ChatroomError('INVITE_INVALID');
  const userCount = await store.countUsers();
  const isSetup = invite?.kind === 'setup';
  if (isSetup && userCount > 0) throw new ChatroomError('INVITE_INVALID');
  if (!isSetup) {
    if (userCount === 0) throw new ChatroomError('REGISTRATION_CLOSED', 'This server is not set up yet: open the setup link first.');
    if (config.registration === 'closed') throw new ChatroomError('REGISTRATION_CLOSED');
    if (config.registration === 'invite' && !invite) throw new ChatroomError('REGISTRATION_CLOSED', 'Signing up here needs an invite link.');
  }
  // Checked before the invite is spent, so a taken name does not burn a one-time link.
  if (await store.getUserByUsername(input.username)) throw new ChatroomError('USERNAME_TAKEN');
  const verifier = await hashLoginKey(loginKey);
  if (invite && !(await store.consumeInvite(invite.tokenHash, now))) throw new ChatroomError('INVITE_INVALID');

  const user = await store.createUser({
    username: input.username,
    role: isSetup ? 'owner' : 'member',
    salt,
    iterations: input.iterations,
    verifier,
  });
  const defaultServer = await store.getDefaultServer();
  if (!defaultServer) {
    if (isSetup) await store.createServer({ name: config.name, ownerId: user.id, isDefault: true });
  } else {
    await store.addServerMember(defaultServer.id, user.id, isSetup ? 'owner' : 'member');
  }
  if (invite?.serverId && invite.serverId !== defaultServer?.id && (await store.getServer(invite.serverId))) {
    await store.addServerMember(invite.serverId, user.id);
  }
  return user;
}

/** The user whose login key this is; BAD_CREDENTIALS for a wrong key and an unknown user alike. */
export async function verifyLogin(deps: Deps, username: string, loginKeyB64: string): Promise<User> {
  const loginKey = decodeExact(loginKeyB64, LOGIN_KEY_BYTES, 'loginKey');
  const user = await deps.store.getUserByUsername(username);
  const creds = user ? await deps.store.getCredentials(user.id) : null;
  if (!user || !creds) {
    await verifyAgainstDummy(loginKey);
    throw new ChatroomError('BAD_CREDENTIALS');
  }
  if (!(await verifyLoginKey(creds.verifier, loginKey))) throw new ChatroomError('BAD_CREDENTIALS');
  if (needsRehash(creds.verifier)) await deps.store.updateVerifier(user.id, await hashLoginKey(loginKey));
  return user;
}
