/**
 * Turns http(s) URLs in message text into links; everything else stays text. Only the http: and
 * https: schemes pass, so a `javascript:` or `data:` URL can never become a link.
 */
import { html, type TemplateResult } from 'lit';

const URL_RE = /\bhttps?:\/\/[^\s<>"']+/gi;
const ALLOWED = new Set(['http:', 'https:']);
/** Trailing punctuation that usually ends a sentence rather than the URL. */
const TRAILING = /[.,;:!?)\]]+$/;

/** Text and links, in order, ready for a Lit template. */
export function linkify(text: string): Array<string | TemplateResult> {
  const out: Array<string | TemplateResult> = [];
  let last = 0;
  for (const match of text.matchAll(URL_RE)) {
    let raw = match[0];
    const trail = TRAILING.exec(raw)?.[0] ?? '';
    raw = raw.slice(0, raw.length - trail.length);
    const href = safeHref(raw);
    if (!href) continue;
    const start = match.index ?? 0;
    out.push(text.slice(last, start));
    out.push(html`<a href=${href} target="_blank" rel="noopener noreferrer">${raw}</a>`);
    last = start + raw.length;
  }
  out.push(text.slice(last));
  return out;
}

/** The normalised URL if its scheme is allowed, else null. */
export function safeHref(raw: string): string | null {
  try {
    const url = new URL(raw);
    return ALLOWED.has(url.protocol) ? url.href : null;
  } catch {
    return null;
  }
}
