/** Terminal styling that turns itself off when the context has no colors. */
import type { CliContext } from './context.ts';

export interface Paint {
  bold(s: string): string;
  dim(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  red(s: string): string;
  cyan(s: string): string;
}

const codes = { bold: [1, 22], dim: [2, 22], green: [32, 39], yellow: [33, 39], red: [31, 39], cyan: [36, 39] } as const;

export function paint(ctx: Pick<CliContext, 'color'>): Paint {
  const make = ([on, off]: readonly [number, number]) => (s: string) => (ctx.color ? `\x1b[${on}m${s}\x1b[${off}m` : s);
  return {
    bold: make(codes.bold),
    dim: make(codes.dim),
    green: make(codes.green),
    yellow: make(codes.yellow),
    red: make(codes.red),
    cyan: make(codes.cyan),
  };
}

/** Quotes a word for a POSIX shell only when it needs it. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** "7 days", "1 hour", "3 hours". */
export function durationInWords(ms: number): string {
  const hours = Math.round(ms / 3_600_000);
  if (hours >= 48 && hours % 24 === 0) return `${hours / 24} days`;
  if (hours >= 24 && hours % 24 === 0) return '1 day';
  return hours === 1 ? '1 hour' : `${hours} hours`;
}
