/**
 * Per-address limits on the account endpoints. Sign-in is also a CPU budget: 2 cores verify only
 * ~60 argon2 hashes per second, so a login flood must not starve everyone else.
 */
import type { FastifyRequest } from 'fastify';
import type { ResolvedConfig } from '../../config/schema.ts';
import { ChatroomError } from '../../shared/errors.ts';
import { RateLimiter } from '../ratelimit.ts';

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
/** Salt lookups per sign-in allowed: the client asks once per attempt, plus retries. */
const PARAMS_PER_LOGIN = 3;

export interface AuthLimiters {
  login: RateLimiter;
  register: RateLimiter;
  params: RateLimiter;
}

export function createAuthLimiters(config: ResolvedConfig, now: () => number): AuthLimiters {
  const { loginsPerMinute, registrationsPerHour } = config.limits;
  return {
    login: new RateLimiter({ capacity: loginsPerMinute, refillMs: MINUTE_MS, now }),
    register: new RateLimiter({ capacity: registrationsPerHour, refillMs: HOUR_MS, now }),
    params: new RateLimiter({ capacity: loginsPerMinute * PARAMS_PER_LOGIN, refillMs: MINUTE_MS, now }),
  };
}

/** Spends one token for the caller's address or throws RATE_LIMITED (429 with Retry-After). */
export function enforce(limiter: RateLimiter, request: FastifyRequest): void {
  const result = limiter.take(request.ip);
  if (!result.ok) throw new ChatroomError('RATE_LIMITED', undefined, { retryAfterSeconds: result.retryAfterSeconds });
}
