/**
 * SOAP for UPnP IGD actions (UPnP Device Architecture §3.2): the request envelope, the values
 * of an answer, and the UPnPError code of a fault.
 */
import { decodeXml, encodeXml, tagText } from './igd-description.ts';
import { routerText } from './lan-trust.ts';

export type SoapArgs = Array<[name: string, value: string | number]>;

/** The envelope for `action` of `serviceType`; arguments in the order the service defines them. */
export function soapEnvelope(serviceType: string, action: string, args: SoapArgs): string {
  const body = args.map(([k, v]) => `<${k}>${encodeXml(String(v))}</${k}>`).join('');
  return (
    '<?xml version="1.0"?>\r\n' +
    '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/">' +
    `<s:Body><u:${action} xmlns:u="${encodeXml(serviceType)}">${body}</u:${action}></s:Body></s:Envelope>\r\n`
  );
}

/** The SOAPAction header value. */
export function soapActionHeader(serviceType: string, action: string): string {
  return `"${serviceType}#${action}"`;
}

/** The UPnPError in a fault body, or null when the body is not a fault. */
export function parseSoapFault(xml: string): { code: number; description: string } | null {
  const code = tagText(xml, 'errorCode');
  if (!code || !/^\d+$/.test(code)) return null;
  return { code: Number(code), description: routerText(decodeXml(tagText(xml, 'errorDescription'))) };
}

/** The named output arguments of an answer ('' for a missing one), control characters removed. */
export function parseSoapValues<K extends string>(xml: string, names: readonly K[]): Record<K, string> {
  const out = {} as Record<K, string>;
  for (const n of names) out[n] = routerText(decodeXml(tagText(xml, n)));
  return out;
}
