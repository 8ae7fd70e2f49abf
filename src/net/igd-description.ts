/**
 * Reads an IGD device description (the XML behind an SSDP LOCATION) far enough to find the
 * connection service to talk to: WANIPConnection:2, then :1, then WANPPPConnection:1, with its
 * controlURL resolved against URLBase or the description's own URL.
 */

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

/** The preferred connection service in `xml`, or null when the device has none. */
export function parseIgdDescription(xml: string, descriptionUrl: string): IgdService | null {
  const base = tagText(xml, 'URLBase') || descriptionUrl;
  const services: Array<{ type: string; control: string }> = [];
  for (const m of xml.matchAll(/<(?:\w+:)?service>([\s\S]*?)<\/(?:\w+:)?service>/g)) {
    const block = m[1]!;
    services.push({ type: tagText(block, 'serviceType'), control: tagText(block, 'controlURL') });
  }
  for (const wanted of CONNECTION_SERVICES) {
    const s = services.find((x) => x.type === wanted && x.control);
    if (!s) continue;
    let controlUrl: string;
    try {
      controlUrl = new URL(s.control, base).toString();
    } catch {
      continue;
    }
    return {
      serviceType: wanted,
      controlUrl,
      version: wanted.endsWith('WANIPConnection:2') ? 2 : 1,
      friendlyName: decodeXml(tagText(xml, 'friendlyName')),
    };
  }
  return null;
}

/** Text of the first `<name>` element (namespace prefix allowed), trimmed; '' when absent. */
export function tagText(xml: string, name: string): string {
  const m = new RegExp(`<(?:\\w+:)?${name}(?:\\s[^>]*)?>([\\s\\S]*?)</(?:\\w+:)?${name}>`).exec(xml);
  return m ? m[1]!.trim() : '';
}

/** Undoes the five XML entities (and numeric references). */
export function decodeXml(s: string): string {
  return s
    .replace(/&#x([0-9a-f]+);/gi, (_, h: string) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&#(\d+);/g, (_, d: string) => String.fromCodePoint(Number(d)))
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}

/** Escapes text for an XML element body. */
export function encodeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}
