/**
 * The operational log: one line per event on stderr, `<ISO time> <code> key=value …`. Only
 * allow-listed event namespaces pass, and only fields that cannot identify anyone: numbers,
 * booleans, and short strings under allow-listed field names that do not look like an address.
 * Never an IP, user agent, username, token or message body.
 */
import type { EventLog } from '../server/context.ts';

/** Event namespaces that may be written (`server.listening`, `ws.slow_reader`, …). */
export const EVENT_NAMESPACES = ['server', 'http', 'ws', 'store', 'retention', 'tls', 'upnp', 'auth', 'invite', 'config'] as const;

/** String fields that may carry a (non-identifying) word, e.g. mode=self-signed. */
export const STRING_FIELDS = ['mode', 'code', 'reason', 'kind', 'status', 'signal', 'version', 'protocol', 'scheme'] as const;

const CODE_SHAPE = /^[a-z]+(\.[a-z0-9_]+)+$/;
const SAFE_WORD = /^[A-Za-z][A-Za-z0-9_-]{0,39}$/;

export interface EventLogOptions {
  /** Where lines go; stderr in the CLI. */
  write: (line: string) => void;
  /** ms since the Unix epoch. */
  now?: () => number;
}

/** Creates the EventLog that buildApp and listen.ts get. */
export function createEventLog(opts: EventLogOptions): EventLog {
  const now = opts.now ?? Date.now;
  return {
    event(code, fields = {}) {
      const safeCode = isAllowedCode(code) ? code : 'log.unlisted_event';
      const parts = [new Date(now()).toISOString(), safeCode];
      if (safeCode === code) {
        for (const [k, v] of Object.entries(fields)) {
          const text = safeField(k, v);
          if (text !== null) parts.push(`${k}=${text}`);
        }
      }
      opts.write(parts.join(' ') + '\n');
    },
  };
}

export function isAllowedCode(code: string): boolean {
  return CODE_SHAPE.test(code) && (EVENT_NAMESPACES as readonly string[]).includes(code.split('.')[0]);
}

function safeField(key: string, value: unknown): string | null {
  if (!/^[a-zA-Z][a-zA-Z0-9_]{0,39}$/.test(key)) return null;
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : null;
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'string' && (STRING_FIELDS as readonly string[]).includes(key) && SAFE_WORD.test(value)) return value;
  return null;
}
