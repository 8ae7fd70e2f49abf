// UPnP text formats: SSDP M-SEARCH/answers, IGD description parsing, SOAP envelopes, values and faults.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeMSearch, parseSsdpResponse } from '../../src/net/ssdp.ts';
import { parseIgdDescription, tagText } from '../../src/net/igd-description.ts';
import { parseSoapFault, parseSoapValues, soapActionHeader, soapEnvelope } from '../../src/net/soap.ts';

test('M-SEARCH names the multicast host, ssdp:discover, MX and the target, CRLF-terminated', () => {
  const text = encodeMSearch('urn:schemas-upnp-org:device:InternetGatewayDevice:2').toString();
  assert.equal(text, 'M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: "ssdp:discover"\r\nMX: 1\r\nST: urn:schemas-upnp-org:device:InternetGatewayDevice:2\r\n\r\n');
});

test('an SSDP answer gives LOCATION, ST and USN (headers in any case)', () => {
  const r = parseSsdpResponse(
    'HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\nst: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\nUSN: uuid:3c6e::urn:x\r\nEXT:\r\nSERVER: Debian/12 UPnP/1.1 MiniUPnPd/2.3.1\r\nLocation: http://192.168.77.1:5000/rootDesc.xml\r\n\r\n',
  );
  assert.deepEqual(r, { location: 'http://192.168.77.1:5000/rootDesc.xml', searchTarget: 'urn:schemas-upnp-org:device:InternetGatewayDevice:1', usn: 'uuid:3c6e::urn:x' });
});

test('SSDP: a NOTIFY, an error status or a LOCATION that is not http(s) is ignored', () => {
  assert.equal(parseSsdpResponse('NOTIFY * HTTP/1.1\r\nLOCATION: http://x/\r\n\r\n'), null);
  assert.equal(parseSsdpResponse('HTTP/1.1 404 Not Found\r\nLOCATION: http://x/\r\n\r\n'), null);
  assert.equal(parseSsdpResponse('HTTP/1.1 200 OK\r\nLOCATION: file:///etc/passwd\r\n\r\n'), null);
  assert.equal(parseSsdpResponse('HTTP/1.1 200 OK\r\n\r\n'), null);
});

const desc = (services: string, urlBase = '') => `<?xml version="1.0"?>
<root xmlns="urn:schemas-upnp-org:device-1-0">${urlBase ? `<URLBase>${urlBase}</URLBase>` : ''}
<device><deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:2</deviceType><friendlyName>Home &amp; router</friendlyName>
<serviceList><service><serviceType>urn:schemas-upnp-org:service:Layer3Forwarding:1</serviceType><controlURL>/ctl/L3F</controlURL></service></serviceList>
<deviceList><device><deviceList><device><serviceList>${services}</serviceList></device></deviceList></device></deviceList></device></root>`;
const svc = (type: string, control: string) => `<service><serviceType>urn:schemas-upnp-org:service:${type}</serviceType><serviceId>x</serviceId><controlURL>${control}</controlURL><eventSubURL>/evt</eventSubURL></service>`;

test('description: WANIPConnection:2 wins over :1 and PPP, and controlURL resolves against the location', () => {
  const s = parseIgdDescription(desc(svc('WANPPPConnection:1', '/ctl/PPP') + svc('WANIPConnection:1', '/ctl/IP1') + svc('WANIPConnection:2', '/ctl/IPConn')), 'http://192.168.77.1:5000/rootDesc.xml');
  assert.deepEqual(s, { serviceType: 'urn:schemas-upnp-org:service:WANIPConnection:2', controlUrl: 'http://192.168.77.1:5000/ctl/IPConn', version: 2, friendlyName: 'Home & router' });
});

test('description: IGDv1 only (force_igd_desc_v1) gives WANIPConnection:1; a relative controlURL resolves against URLBase', () => {
  const s = parseIgdDescription(desc(svc('WANIPConnection:1', 'ctl/IPConn'), 'http://192.168.77.1:5000/upnp/'), 'http://192.168.77.1:5000/rootDesc.xml');
  assert.equal(s?.version, 1);
  assert.equal(s?.controlUrl, 'http://192.168.77.1:5000/upnp/ctl/IPConn');
});

test('description: a URLBase on another origin than the LOCATION is not followed (lan-trust.test.ts has more)', () => {
  assert.equal(parseIgdDescription(desc(svc('WANIPConnection:1', 'ctl/IPConn'), 'http://192.168.1.1:49152/'), 'http://192.168.77.1:5000/rootDesc.xml'), null);
});

test('description: PPP only is used; no connection service at all is null', () => {
  assert.equal(parseIgdDescription(desc(svc('WANPPPConnection:1', '/ppp')), 'http://10.0.0.1/d.xml')?.serviceType, 'urn:schemas-upnp-org:service:WANPPPConnection:1');
  assert.equal(parseIgdDescription(desc(''), 'http://10.0.0.1/d.xml'), null);
});

test('tagText tolerates namespace prefixes and attributes', () => {
  assert.equal(tagText('<s:Body><u:X a="1"> v </u:X></s:Body>', 'X'), 'v');
});

test('SOAP envelope: empty remote host is an empty element (never "undefined"), values escaped', () => {
  const xml = soapEnvelope('urn:schemas-upnp-org:service:WANIPConnection:1', 'AddPortMapping', [
    ['NewRemoteHost', ''],
    ['NewExternalPort', 443],
    ['NewPortMappingDescription', 'a<b&c'],
  ]);
  assert.match(xml, /<u:AddPortMapping xmlns:u="urn:schemas-upnp-org:service:WANIPConnection:1"><NewRemoteHost><\/NewRemoteHost><NewExternalPort>443<\/NewExternalPort><NewPortMappingDescription>a&lt;b&amp;c<\/NewPortMappingDescription><\/u:AddPortMapping>/);
  assert.doesNotMatch(xml, /undefined/);
  assert.equal(soapActionHeader('urn:x:1', 'GetExternalIPAddress'), '"urn:x:1#GetExternalIPAddress"');
});

test('SOAP answer values and a UPnPError fault (as miniupnpd sends 606)', () => {
  const ok = '<?xml version="1.0"?><s:Envelope><s:Body><u:GetExternalIPAddressResponse xmlns:u="urn:x"><NewExternalIPAddress>11.11.11.1</NewExternalIPAddress></u:GetExternalIPAddressResponse></s:Body></s:Envelope>';
  assert.deepEqual(parseSoapValues(ok, ['NewExternalIPAddress', 'Missing']), { NewExternalIPAddress: '11.11.11.1', Missing: '' });
  const fault =
    '<s:Envelope><s:Body><s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring><detail><UPnPError xmlns="urn:schemas-upnp-org:control-1-0"><errorCode>606</errorCode><errorDescription>Action not authorized</errorDescription></UPnPError></detail></s:Fault></s:Body></s:Envelope>';
  assert.deepEqual(parseSoapFault(fault), { code: 606, description: 'Action not authorized' });
  assert.equal(parseSoapFault(ok), null);
});
