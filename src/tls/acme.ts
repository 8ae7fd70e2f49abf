/**
 * One ACME order with acme-client: HTTP-01 only (the HTTP port answers the challenge from
 * `challenges`), the account key kept per CA, the certificate stored in `<dataPath>/tls/acme/`.
 * acme-client's own pre-check is skipped: it fetches http://<domain>/.well-known/… from inside the
 * LAN, a hairpin request that fails on routers without NAT loopback although the CA, coming from
 * outside, would succeed. The CA's validation is the real check.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { Agent, get as httpsGet } from 'node:https';
import { rootCertificates } from 'node:tls';
import type * as AcmeClient from 'acme-client';
import { describeChain, keyMatchesLeaf } from './pem.ts';
import type { KeyPair } from './policy.ts';
import {
  acmePaths,
  clearLastFailure,
  readAccount,
  readLastFailure,
  readStoredCertificate,
  writeAccount,
  writeCertificate,
  writeLastFailure,
  type AcmeFailure,
  type AcmePaths,
} from './acme-store.ts';

/** Renew when this fraction of the certificate's lifetime is left (Let's Encrypt: 30 of 90 days). */
export const RENEW_WHEN_LEFT = 1 / 3;
/** One HTTP request to the CA, ms. */
const REQUEST_TIMEOUT_MS = 30_000;

export interface AcmeSettings {
  dataPath: string;
  domain: string;
  email: string;
  directoryUrl: string;
  /** Absolute path of an extra CA (PEM) trusted for the connection to the directory, or ''. */
  caFile: string;
}

/** Tokens the HTTP port must answer: token → key authorization. */
export type ChallengeResponses = Map<string, string>;

/** A certificate from the CA, with when to renew it. */
export interface AcmeCertificate extends KeyPair {
  /** ms since the Unix epoch. */
  validTo: number;
  renewAt: number;
}

/** When to renew: once RENEW_WHEN_LEFT of the lifetime is left, ms since the Unix epoch. */
export function renewalTime(certPem: string): number {
  const { validFrom, validTo } = describeChain(certPem);
  return validTo - (validTo - validFrom) * RENEW_WHEN_LEFT;
}

/** The stored certificate if it belongs to this domain, matches its key and has not expired. */
export function lastGoodCertificate(settings: AcmeSettings, now = Date.now()): AcmeCertificate | null {
  const stored = readStoredCertificate(acmePaths(settings.dataPath));
  if (!stored) return null;
  try {
    const facts = describeChain(stored.cert);
    if (facts.validTo <= now || !facts.names.includes(`DNS:${settings.domain.toLowerCase()}`)) return null;
    if (!keyMatchesLeaf(stored.cert, stored.key)) return null;
    return { ...stored, validTo: facts.validTo, renewAt: renewalTime(stored.cert) };
  } catch {
    return null;
  }
}

export function lastFailure(dataPath: string): AcmeFailure | null {
  return readLastFailure(acmePaths(dataPath));
}

/**
 * Orders a certificate for settings.domain, stores it and clears the last failure; on failure
 * records the reason (see lastFailure) and throws an Error whose message is that reason.
 */
export async function orderCertificate(settings: AcmeSettings, challenges: ChallengeResponses, progress: (line: string) => void = () => {}): Promise<AcmeCertificate> {
  const paths = acmePaths(settings.dataPath);
  const acme = await loadAcmeClient(settings.caFile);
  const restoreLogger = followProgress(acme, settings, progress);
  try {
    await probeDirectory(settings.directoryUrl, acme.axios.defaults.httpsAgent as Agent);
    const account = await accountFor(acme, paths, settings.directoryUrl);
    // With a known account URL acme-client skips registration; without it, re-registering an
    // existing key makes it send an empty account update, which pebble (and RFC 8555 §7.3.2) refuse.
    const client = new acme.Client({ directoryUrl: settings.directoryUrl, accountKey: account.key, ...(account.url ? { accountUrl: account.url } : {}) });
    const certKey = (await acme.crypto.createPrivateEcdsaKey()).toString();
    const [, csr] = await acme.crypto.createCsr({ commonName: settings.domain, altNames: [settings.domain] }, certKey);
    const cert = await client.auto({
      csr,
      ...(settings.email ? { email: settings.email } : {}),
      termsOfServiceAgreed: true,
      challengePriority: ['http-01'],
      skipChallengeVerification: true,
      challengeCreateFn: async (_authz, challenge, keyAuthorization) => {
        if (challenge.type !== 'http-01') throw new Error(`the CA offered ${challenge.type}, chatroom answers only http-01`);
        challenges.set(challenge.token, keyAuthorization);
      },
      challengeRemoveFn: async (_authz, challenge) => {
        challenges.delete(challenge.token);
      },
    });
    if (!account.url) writeAccount(paths, account.key, { directoryUrl: settings.directoryUrl, accountUrl: client.getAccountUrl() });
    if (!keyMatchesLeaf(cert, certKey)) throw new Error('the CA returned a certificate for another key');
    writeCertificate(paths, cert, certKey);
    clearLastFailure(paths);
    const facts = describeChain(cert);
    return { cert, key: certKey, validTo: facts.validTo, renewAt: renewalTime(cert) };
  } catch (err) {
    const reason = describeFailure(err);
    writeLastFailure(paths, { at: new Date().toISOString(), domain: settings.domain, directoryUrl: settings.directoryUrl, reason });
    throw new Error(reason);
  } finally {
    restoreLogger();
  }
}

async function accountFor(acme: typeof AcmeClient, paths: AcmePaths, directoryUrl: string): Promise<{ key: string; url?: string }> {
  const stored = readAccount(paths);
  if (stored && stored.account.directoryUrl === directoryUrl) return { key: stored.key, url: stored.account.accountUrl };
  const key = (await acme.crypto.createPrivateEcdsaKey()).toString();
  writeAccount(paths, key, { directoryUrl });
  return { key };
}

/**
 * Fetches the directory once before acme-client does: a network error then gets its real cause
 * (acme-client 5.4 turns one into "Cannot read properties of undefined" after its retries).
 */
function probeDirectory(url: string, agent: Agent): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = httpsGet(url, { agent, timeout: REQUEST_TIMEOUT_MS }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        if (body.length < 65_536) body += c;
      });
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`the ACME directory ${url} answered HTTP ${res.statusCode}`));
        try {
          if (typeof (JSON.parse(body) as { newOrder?: unknown }).newOrder !== 'string') throw new Error('no newOrder');
          resolve();
        } catch {
          reject(new Error(`${url} is not an ACME directory (check tls.acme.directoryUrl)`));
        }
      });
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
  });
}

let loaded: typeof AcmeClient | null = null;
let trustedCa: string | null = null;

/**
 * acme-client talks through its own axios instance: the agent set on it is used for the CA only.
 * Loaded on first use (ACME mode only).
 */
async function loadAcmeClient(caFile: string): Promise<typeof AcmeClient> {
  if (!loaded) {
    const mod = (await import('acme-client')) as unknown as { default?: typeof AcmeClient } & typeof AcmeClient;
    loaded = mod.default ?? mod;
    loaded.axios.defaults.timeout = REQUEST_TIMEOUT_MS;
    // acme-client retries a CA that does not answer; 3 tries (waiting 1, 2, 3 s) keep a dead CA from stalling the start for long.
    const retry = (loaded.axios.defaults as unknown as { acmeSettings: { retryMaxAttempts: number; retryDefaultDelay: number } }).acmeSettings;
    retry.retryMaxAttempts = 3;
    retry.retryDefaultDelay = 1;
  }
  if (trustedCa !== caFile) {
    let extra: string[] = [];
    if (caFile) {
      try {
        extra = [readFileSync(caFile, 'utf8')];
      } catch (err) {
        throw new Error(`cannot read tls.acme.caFile ${caFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
    }
    loaded.axios.defaults.httpsAgent = new Agent({ ca: [...rootCertificates, ...extra] });
    trustedCa = caFile;
  }
  return loaded;
}

/** acme-client's log lines that mark a step a person waiting would like to see, and how to word them. */
const STEPS: Array<[RegExp, (s: AcmeSettings) => string]> = [
  [/^\[auto\] Registering account/, (s) => `Registering an account with ${hostOf(s.directoryUrl)}…`],
  [/^\[auto\] Placing new certificate order/, (s) => `Ordering a certificate for ${s.domain}…`],
  [/Completing challenge with ACME provider/, () => 'Answering the HTTP-01 challenge on the HTTP port; the CA is checking…'],
  [/^\[auto\] Finalizing order/, () => 'Validated. Downloading the certificate…'],
];

function followProgress(acme: typeof AcmeClient, settings: AcmeSettings, progress: (line: string) => void): () => void {
  acme.setLogger((message: string) => {
    for (const [re, word] of STEPS) if (re.test(message)) progress(word(settings));
  });
  return () => acme.setLogger(() => {});
}

/** A one-line reason without addresses (the no-log policy holds for our own output too). */
export function describeFailure(err: unknown): string {
  const e = err as { message?: string; code?: string; response?: { status?: number } };
  let text = e?.message ?? String(err);
  if (e?.code === 'ECONNREFUSED') text = 'the CA refused the connection (is tls.acme.directoryUrl right?)';
  else if (e?.code === 'ETIMEDOUT' || e?.code === 'ECONNRESET' || e?.code === 'ECONNABORTED') text = `the CA did not answer (${e.code}): no internet, or the CA is down`;
  else if (/reading 'config'/.test(text)) text = 'the connection to the CA failed during the order (network error)';
  else if (e?.code === 'ENOTFOUND' || e?.code === 'EAI_AGAIN') text = 'the CA\'s name does not resolve (no internet, or a typo in tls.acme.directoryUrl)';
  else if (/SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|^CERT_|ERR_TLS_CERT/.test(e?.code ?? '')) text = `the CA's HTTPS certificate is not trusted (${e.code}); for a test CA set tls.acme.caFile`;
  return redactAddresses(text.split('\n')[0]).slice(0, 500);
}

function redactAddresses(text: string): string {
  return text
    .replace(/\b(?:\d{1,3}\.){3}\d{1,3}\b/g, '<address>')
    .replace(/\[?[0-9A-Fa-f:]*:[0-9A-Fa-f:]*\]?/g, (m) => (isIP(m.replace(/^\[|\]$/g, '')) === 6 ? '<address>' : m));
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}
