/**
 * The certificate the HTTPS listener serves, for every tls.mode, and how it changes while the
 * server runs — always by https.Server#setSecureContext, so nothing restarts and open connections
 * keep their session:
 * - self-signed: re-made when this computer's names or LAN addresses change (checked every minute)
 *   or it nears expiry;
 * - acme: ordered at start unless a stored one is still fresh, renewed once a third of its lifetime
 *   is left; a failed order serves the last good certificate, else a self-signed one, and retries;
 * - files: re-read when the files change; a bad new pair keeps the old one.
 */
import { join, resolve } from 'node:path';
import type { SecureContextOptions } from 'node:tls';
import type { ResolvedConfig } from '../config/schema.ts';
import type { EventLog } from '../server/context.ts';
import { certNames } from './addresses.ts';
import { ensureSelfSignedCert } from './selfsigned.ts';
import { certFilePaths, readCertFiles, watchCertFiles } from './files.ts';
import { lastGoodCertificate, orderCertificate, type AcmeCertificate, type AcmeSettings, type ChallengeResponses } from './acme.ts';
import { secureContextOptions, type KeyPair } from './policy.ts';

/** How often self-signed mode looks for changed names or addresses, ms. */
export const ADDRESS_CHECK_MS = 60_000;
/** Longest wait for an ACME order at start before serving a fallback (the order goes on), ms. */
export const ORDER_BUDGET_MS = 120_000;
/** Timers never wait longer than this, ms (setTimeout overflows after 24.8 days; clocks jump). */
const MAX_TIMER_MS = 6 * 3_600_000;
/** Bounds for the wait before retrying a failed order, ms. */
const RETRY_MIN_MS = 10_000;
const RETRY_MAX_MS = 3_600_000;

/** Where the served certificate came from. */
export type CertSource = 'self-signed' | 'acme' | 'acme-last-good' | 'acme-fallback-self-signed' | 'files' | 'none';

/** Anything with https.Server's live certificate swap. */
export interface SecureContextTarget {
  setSecureContext(options: SecureContextOptions): void;
}

export interface TlsRuntimeOptions {
  log?: EventLog;
  /** Lines for the person at the terminal (ordering steps, renewals, reload problems). */
  progress?: (line: string) => void;
  now?: () => number;
  /** Names and addresses the self-signed certificate must cover; defaults to certNames(config). */
  names?: () => { dnsNames: string[]; ipAddresses: string[] };
  /** ms; see ADDRESS_CHECK_MS. */
  addressCheckMs?: number;
  /** ms; see ORDER_BUDGET_MS. */
  orderBudgetMs?: number;
}

/** The live TLS state of one server. */
export interface TlsRuntime {
  readonly mode: ResolvedConfig['tls']['mode'];
  /** What is being served now. */
  readonly source: CertSource;
  /** The pair being served; null with tls off. */
  readonly pair: KeyPair | null;
  /** SHA-256 fingerprint (colon hex) while a self-signed certificate is served, for people to compare. */
  readonly fingerprint: string | undefined;
  /** Things to print once at start: why a fallback is served, warnings about the certificate. */
  readonly notices: string[];
  /** The key authorization for an HTTP-01 token while an order waits for it. */
  challengeResponse(token: string): string | undefined;
  /** Gets the first certificate (orders one in acme mode: the HTTP port must be listening). */
  load(): Promise<void>;
  /** Starts live updates on the listening server. */
  attach(server: SecureContextTarget): void;
  /** Renews (acme), re-reads (files) or re-checks (self-signed) now; resolves true when the certificate changed. */
  refresh(): Promise<boolean>;
  /** Stops timers and watchers. */
  close(): void;
}

/** Creates the runtime for config.tls.mode; call load() before listening. */
export function createTlsRuntime(config: ResolvedConfig, opts: TlsRuntimeOptions = {}): TlsRuntime {
  const log = opts.log ?? { event() {} };
  const progress = opts.progress ?? (() => {});
  const now = opts.now ?? Date.now;
  const names = opts.names ?? (() => certNames(config));
  const selfSignedDir = join(config.dataPath, 'tls');
  const challenges: ChallengeResponses = new Map();

  let pair: KeyPair | null = null;
  let source: CertSource = 'none';
  let fingerprint: string | undefined;
  const notices: string[] = [];
  let target: SecureContextTarget | null = null;
  let timer: NodeJS.Timeout | null = null;
  let stopWatching: (() => void) | null = null;
  let closed = false;

  const install = (next: KeyPair, from: CertSource, fp?: string) => {
    pair = next;
    source = from;
    fingerprint = fp;
    target?.setSecureContext(secureContextOptions(next));
  };
  const schedule = (fn: () => void, delayMs: number) => {
    if (timer) clearTimeout(timer);
    if (closed) return;
    timer = setTimeout(fn, Math.max(0, Math.min(delayMs, MAX_TIMER_MS)));
    timer.unref();
  };

  // ---------------------------------------------------------------- self-signed
  const selfSigned = async (extraNames: string[] = []): Promise<{ pair: KeyPair; fingerprint: string; regenerated: boolean }> => {
    const n = names();
    const cert = await ensureSelfSignedCert({ dir: selfSignedDir, dnsNames: [...new Set([...n.dnsNames, ...extraNames])], ipAddresses: n.ipAddresses, now: now() });
    return { pair: { cert: cert.cert, key: cert.key }, fingerprint: cert.fingerprint256, regenerated: cert.regenerated };
  };
  let checking: Promise<boolean> | null = null;
  const recheckSelfSigned = (): Promise<boolean> => {
    checking ??= selfSigned()
      .then((c) => {
        if (!c.regenerated && c.fingerprint === fingerprint) return false;
        install(c.pair, 'self-signed', c.fingerprint);
        log.event('tls.self_signed_regenerated');
        progress(`This computer's names or addresses changed: new self-signed certificate, SHA-256 fingerprint ${c.fingerprint}`);
        return true;
      })
      .catch(() => {
        log.event('tls.self_signed_failed');
        return false;
      })
      .finally(() => {
        checking = null;
      });
    return checking;
  };
  const everyAddressCheck = () => {
    schedule(() => {
      void recheckSelfSigned().finally(everyAddressCheck);
    }, opts.addressCheckMs ?? ADDRESS_CHECK_MS);
  };

  // ---------------------------------------------------------------- acme
  const settings: AcmeSettings = {
    dataPath: config.dataPath,
    domain: config.tls.domain.toLowerCase(),
    email: config.tls.acme.email,
    directoryUrl: config.tls.acme.directoryUrl,
    caFile: config.tls.acme.caFile ? resolve(config.configDir, config.tls.acme.caFile) : '',
  };
  let ordering: Promise<AcmeCertificate> | null = null;
  let currentAcme: AcmeCertificate | null = null;
  const order = (): Promise<AcmeCertificate> => {
    ordering ??= orderCertificate(settings, challenges, progress).finally(() => {
      ordering = null;
    });
    return ordering;
  };
  const installAcme = (cert: AcmeCertificate) => {
    currentAcme = cert;
    install(cert, 'acme');
    scheduleRenewal(cert.renewAt);
  };
  const retryDelay = () => {
    const left = currentAcme ? currentAcme.validTo - now() : RETRY_MAX_MS * 4;
    return Math.min(RETRY_MAX_MS, Math.max(RETRY_MIN_MS, left / 4));
  };
  const renew = async (): Promise<boolean> => {
    try {
      const cert = await order();
      installAcme(cert);
      log.event('tls.acme_renewed');
      progress(`New certificate for ${settings.domain}, valid until ${new Date(cert.validTo).toISOString()}.`);
      return true;
    } catch (err) {
      log.event('tls.acme_order_failed');
      const wait = retryDelay();
      progress(`! Could not renew the certificate for ${settings.domain}: ${(err as Error).message}. Still serving the current one; trying again in ${minutes(wait)}.`);
      schedule(() => void renew(), wait);
      return false;
    }
  };
  const scheduleRenewal = (at: number) => {
    schedule(() => {
      if (now() >= at) void renew();
      else scheduleRenewal(at);
    }, at - now());
  };
  const loadAcme = async () => {
    const good = lastGoodCertificate(settings, now());
    if (good && now() < good.renewAt) {
      installAcme(good);
      log.event('tls.acme_reused');
      return;
    }
    progress(`Getting a certificate for ${settings.domain} from ${hostOf(settings.directoryUrl)} (HTTP-01 on port ${config.httpPort})…`);
    const pending = order();
    let budget: NodeJS.Timeout | undefined;
    const outOfTime = new Promise<'timeout'>((res) => {
      budget = setTimeout(() => res('timeout'), opts.orderBudgetMs ?? ORDER_BUDGET_MS);
    });
    try {
      const got = await Promise.race([pending, outOfTime]);
      if (got !== 'timeout') {
        installAcme(got);
        log.event('tls.acme_ordered');
        progress(`Certificate for ${settings.domain} issued, valid until ${new Date(got.validTo).toISOString()}.`);
        return;
      }
      // Too slow to wait for at start: serve the fallback now and the real certificate when it comes.
      pending.then(
        (cert) => {
          installAcme(cert);
          log.event('tls.acme_ordered');
          progress(`Certificate for ${settings.domain} issued, valid until ${new Date(cert.validTo).toISOString()}: now serving it.`);
        },
        (err: Error) => {
          log.event('tls.acme_order_failed');
          progress(`! The certificate order for ${settings.domain} failed: ${err.message}. Trying again in ${minutes(retryDelay())}.`);
          schedule(() => void renew(), retryDelay());
        },
      );
      await fallBack(`the CA has not finished after ${Math.round((opts.orderBudgetMs ?? ORDER_BUDGET_MS) / 1000)} s (still trying)`, good, false);
    } catch (err) {
      log.event('tls.acme_order_failed');
      await fallBack((err as Error).message, good, true);
    } finally {
      clearTimeout(budget);
    }
  };
  const fallBack = async (reason: string, good: AcmeCertificate | null, retry: boolean) => {
    if (good) {
      currentAcme = good;
      install(good, 'acme-last-good');
      log.event('tls.acme_fallback', { kind: 'last_good' });
      notices.push(
        `Could not get a new certificate for ${settings.domain}: ${reason}. Serving the last good one (valid until ${new Date(good.validTo).toISOString()}).` +
          (retry ? ` Trying again in ${minutes(retryDelay())}; \`chatroom doctor\` shows the details.` : ''),
      );
    } else {
      const c = await selfSigned([settings.domain]);
      log.event(c.regenerated ? 'tls.self_signed_created' : 'tls.self_signed_reused');
      install(c.pair, 'acme-fallback-self-signed', c.fingerprint);
      log.event('tls.acme_fallback', { kind: 'self_signed' });
      notices.push(
        `Could not get a certificate for ${settings.domain} from ${hostOf(settings.directoryUrl)}: ${reason}. ` +
          `Serving a self-signed certificate meanwhile (browsers will warn).` +
          (retry ? ` Trying again in ${minutes(retryDelay())}; \`chatroom doctor\` shows the details.` : ''),
      );
    }
    if (retry) schedule(() => void renew(), retryDelay());
  };

  // ---------------------------------------------------------------- files
  const filePaths = certFilePaths(config);
  const reloadFiles = async (): Promise<boolean> => {
    try {
      const next = readCertFiles(filePaths.certPath, filePaths.keyPath, now());
      if (pair && next.cert === pair.cert && next.key === pair.key) return false;
      install(next, 'files');
      log.event('tls.files_reloaded');
      progress(`Reloaded the certificate from ${filePaths.certPath} (valid until ${new Date(next.facts.validTo).toISOString()}).`);
      for (const w of next.warnings) progress(`! ${w}`);
      return true;
    } catch (err) {
      log.event('tls.files_reload_failed');
      progress(`! Kept serving the previous certificate: ${(err as Error).message}`);
      return false;
    }
  };

  return {
    mode: config.tls.mode,
    get source() {
      return source;
    },
    get pair() {
      return pair;
    },
    get fingerprint() {
      return fingerprint;
    },
    notices,
    challengeResponse: (token) => challenges.get(token),
    async load() {
      if (config.tls.mode === 'self-signed') {
        const c = await selfSigned();
        log.event(c.regenerated ? 'tls.self_signed_created' : 'tls.self_signed_reused');
        install(c.pair, 'self-signed', c.fingerprint);
      } else if (config.tls.mode === 'files') {
        const files = readCertFiles(filePaths.certPath, filePaths.keyPath, now());
        install(files, 'files');
        notices.push(...files.warnings);
      } else if (config.tls.mode === 'acme') {
        await loadAcme();
      }
    },
    attach(server) {
      target = server;
      if (config.tls.mode === 'self-signed') everyAddressCheck();
      if (config.tls.mode === 'files') stopWatching = watchCertFiles(filePaths.certPath, filePaths.keyPath, () => void reloadFiles());
    },
    async refresh() {
      if (config.tls.mode === 'self-signed') return recheckSelfSigned();
      if (config.tls.mode === 'files') return reloadFiles();
      if (config.tls.mode === 'acme') return renew();
      return false;
    },
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      stopWatching?.();
    },
  };
}

function minutes(ms: number): string {
  const m = Math.round(ms / 60_000);
  return m < 1 ? `${Math.max(1, Math.round(ms / 1000))} s` : m === 1 ? '1 minute' : `${m} minutes`;
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}
