// The in-memory rate limiters: token-bucket refill, Retry-After, per-address isolation, bounded memory, keyed-hash keys, proxy trust; and invite/setup links.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { RateLimiter, ConcurrencyLimiter, addressHash } from '../../src/server/ratelimit.ts';
import { createInviteLink, ensureSetupLink } from '../../src/server/invites.ts';
import { hashToken } from '../../src/server/auth/tokens.ts';
import { startTestServer } from '../helpers/server.ts';
import { api, setupOwner } from '../helpers/client.ts';

test('a bucket allows its capacity, then refills at capacity per window', () => {
  let now = 1_000_000;
  const limiter = new RateLimiter({ capacity: 3, refillMs: 60_000, now: () => now });
  for (let i = 0; i < 3; i++) assert.deepEqual(limiter.take('198.51.100.7'), { ok: true });
  const refused = limiter.take('198.51.100.7');
  assert.deepEqual(refused, { ok: false, retryAfterSeconds: 20 }, 'one token per 20 s');
  assert.deepEqual(limiter.take('198.51.100.8'), { ok: true }, 'another address has its own bucket');
  now += 20_000;
  assert.deepEqual(limiter.take('198.51.100.7'), { ok: true });
  assert.equal(limiter.take('198.51.100.7').ok, false);
  now += 10 * 60_000;
  for (let i = 0; i < 3; i++) assert.equal(limiter.take('198.51.100.7').ok, true, 'never above capacity');
  assert.equal(limiter.take('198.51.100.7').ok, false);
});

test('the map is bounded: the least recently used address is evicted', () => {
  const limiter = new RateLimiter({ capacity: 1, refillMs: 3_600_000, maxKeys: 100 });
  assert.equal(limiter.take('10.0.0.1').ok, true);
  for (let i = 0; i < 1000; i++) limiter.take(`192.0.2.${i % 250}.${i}`);
  assert.equal(limiter.size, 100);
  assert.equal(limiter.take('10.0.0.1').ok, true, 'its exhausted bucket was evicted');
});

test('keys are a keyed hash of the address, never the address', () => {
  const h = addressHash('203.0.113.9');
  assert.equal(h, addressHash('203.0.113.9'));
  assert.notEqual(h, addressHash('203.0.113.10'));
  assert.notEqual(h, createHash('sha256').update('203.0.113.9').digest('base64url'), 'keyed, not a plain hash anyone can recompute');
  assert.match(h, /^[A-Za-z0-9_-]{43}$/);
});

test('the concurrency limiter caps per address and releases', () => {
  const limiter = new ConcurrencyLimiter(2);
  assert.equal(limiter.acquire('::1'), true);
  assert.equal(limiter.acquire('::1'), true);
  assert.equal(limiter.acquire('::1'), false);
  assert.equal(limiter.acquire('::2'), true);
  limiter.release('::1');
  assert.equal(limiter.acquire('::1'), true);
});

test('invite links: URL paths, only the hash stored, expiry from ttlHours; a setup link only before the first account', async (t) => {
  const s = await startTestServer();
  t.after(() => s.close());
  const now = Date.now();
  const invite = await createInviteLink(s.store, 'https://chat.example.org/', { kind: 'invite', ttlHours: 2, now });
  assert.equal(invite.url, `https://chat.example.org/invite/${invite.token}`);
  assert.equal(invite.expiresAt, now + 2 * 3_600_000);
  assert.match(invite.token, /^[A-Za-z0-9_-]{43}$/);
  const stored = await s.store.getUsableInvite(hashToken(invite.token), now);
  assert.equal(stored?.kind, 'invite');
  assert.equal(stored?.tokenHash, hashToken(invite.token));
  assert.equal(await s.store.getUsableInvite(hashToken(invite.token), now + 2 * 3_600_000 + 1), null);

  const setup = await ensureSetupLink(s.store, s.url, 24);
  assert.ok(setup);
  assert.equal(new URL(setup.url).pathname, `/setup/${setup.token}`);
  await setupOwner(s);
  assert.equal(await ensureSetupLink(s.store, s.url, 24), null);
});

test('X-Forwarded-For picks the bucket only behind a configured proxy', async (t) => {
  const attempt = (url: string, forwardedFor: string) =>
    api({ url }, null, 'POST', '/api/auth/login', { username: 'someone', loginKey: Buffer.alloc(32).toString('base64') }, { headers: { 'x-forwarded-for': forwardedFor } });
  const direct = await startTestServer({ limits: { loginsPerMinute: 1 } });
  t.after(() => direct.close());
  assert.equal((await attempt(direct.url, '198.51.100.1')).status, 401);
  assert.equal((await attempt(direct.url, '198.51.100.2')).status, 429, 'a spoofed header does not buy a new bucket');

  const proxied = await startTestServer({ behindProxy: true, limits: { loginsPerMinute: 1 } });
  t.after(() => proxied.close());
  assert.equal((await attempt(proxied.url, '198.51.100.1')).status, 401);
  assert.equal((await attempt(proxied.url, '198.51.100.2')).status, 401, 'each client behind the proxy has its own bucket');
  assert.equal((await attempt(proxied.url, '198.51.100.1')).status, 429);
});
