/**
 * Reads an IGD device description (the XML behind an SSDP LOCATION) far enough to find the
 * connection service to talk to: WANIPConnection:2, then :1, then WANPPPConnection:1, with its
 * controlURL resolved against URLBase or the description's own URL.
 */
import { routerText } from './lan-trust.ts';

/** Connection services in order of preference. */
export const CONNECTION_SERVICES = [
  'urn:schemas-upnp-org:service:WANIPConnection:2',
  'urn:schemas-upnp-org:service:WANIPConnection:1',
  'urn:schemas-upnp-org:service:WANPPPConnection:1',
] as const;

export interface IgdService {
  serviceType: string;
  /** Absolute URL for SOAP requests. */
  controlUrl: string;
  /** 2 when the service is WANIPConnection:2 (AddAnyPortMapping exists), else 1. */
  version: 1 | 2;
  friendlyName: string;
}

/**
 * The preferred connection service in `xml`, or null when the device has none. A controlURL that
 * (after URLBase) points at another origin than the description is skipped: the description's
 * host was checked (lan-trust.ts), a URL inside it was not.
 */
export function parseIgdDescription(xml: string, descriptionUrl: string): IgdService | null {
  let origin: string;
  try {
    origin = new URL(descriptionUrl).origin;
  } catch {
    return null;
  }
  const base = tagText(xml, 'URLBase') || descriptionUrl;
  const services: Array<{ type: string; control: string }> = [];
  for (let from = 0; ; ) {
    const open = findTag(xml, 'service', from, false);
    const close = open && findTag(xml, 'service', open.end, true);
    if (!open || !close) break;
    const block = xml.slice(open.end, close.start);
    services.push({ type: tagText(block, 'serviceType'), control: tagText(block, 'controlURL') });
    from = close.end;
  }
  for (const wanted of CONNECTION_SERVICES) {
    const s = services.find((x) => x.type === wanted && x.control);
    if (!s) continue;
    let control: URL;
    try {
      control = new URL(decodeXml(s.control), base);
    } catch {
      continue;
    }
    if (control.origin !== origin || control.username || control.password) continue;
    return {
      serviceType: wanted,
      controlUrl: control.toString(),
      version: wanted.endsWith('WANIPConnection:2') ? 2 : 1,
      friendlyName: routerText(decodeXml(tagText(xml, 'friendlyName'))),
    };
  }
  return null;
}

/**
 * Text of the first `<name>` element (namespace prefix and attributes allowed), trimmed; '' when
 * absent. Scans with indexOf, so time is linear in `xml` whatever a router sends (a lazy regex
 * took seconds on a 250 KB answer).
 */
export function tagText(xml: string, name: string): string {
  const open = findTag(xml, name, 0, false);
  const close = open && findTag(xml, name, open.end, true);
  return open && close ? xml.slice(open.end, close.start).trim() : '';
}

/** Longest namespace prefix looked at, characters. */
const MAX_PREFIX = 32;

/**
 * The first `<[prefix:]name>` / `<[prefix:]name attrs>` (or, `closing`, `</[prefix:]name>`) at or
 * after `from`: where it starts and the index just past its `>`; null when there is none.
 */
function findTag(xml: string, name: string, from: number, closing: boolean): { start: number; end: number } | null {
  for (let i = xml.indexOf(name, from); i >= 0; i = xml.indexOf(name, i + 1)) {
    let s = i - 1;
    if (xml[s] === ':') {
      let w = s;
      while (w > 0 && s - w < MAX_PREFIX && isWordChar(xml.charCodeAt(w - 1))) w--;
      if (w === s) continue;
      s = w - 1;
    }
    if (closing) {
      if (xml[s] !== '/') continue;
      s--;
    }
    if (s < from || xml[s] !== '<') continue;
    const after = i + name.length;
    if (xml[after] === '>') return { start: s, end: after + 1 };
    if (closing || !/\s/.test(xml[after] ?? '')) continue;
    const gt = xml.indexOf('>', after);
    // No `>` after this one: none after any later one either.
    return gt < 0 ? null : { start: s, end: gt + 1 };
  }
  return null;
}

/** [A-Za-z0-9_], as in the `\w` of XML-ish prefixes. */
function isWordChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

/** Largest Unicode code point. */
const MAX_CODE_POINT = 0x10ffff;

/**
 * Undoes the five XML entities and numeric references; a reference to no character (above
 * U+10FFFF, or a lone surrogate) becomes U+FFFD instead of throwing.
 */
export function decodeXml(s: string): string {
  return s
    .replace(/&#x([0-9a-f]+);/gi, (_, h: string) => codePoint(parseInt(h, 16)))
    .replace(/&#(\d+);/g, (_, d: string) => codePoint(Number(d)))
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}

function codePoint(n: number): string {
  const valid = Number.isInteger(n) && n >= 0 && n <= MAX_CODE_POINT && !(n >= 0xd800 && n <= 0xdfff);
  return String.fromCodePoint(valid ? n : 0xfffd);
}

/** Escapes text for an XML element body. */
export function encodeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}
