// What chatroom believes from the LAN: only an http:// LOCATION at the private default gateway, a controlURL on that same origin, router text without control characters, XML references that cannot throw.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { decodeXml, parseIgdDescription } from '../../src/net/igd-description.ts';
import { isPrivateLanIPv4, routerText, trustedRouterUrl } from '../../src/net/lan-trust.ts';
import { parseSoapFault, parseSoapValues } from '../../src/net/soap.ts';
import { UpnpClient } from '../../src/net/upnp-client.ts';

const IGD2 = 'urn:schemas-upnp-org:device:InternetGatewayDevice:2';
const description = (control: string, urlBase = '', name = 'Router') =>
  `<root>${urlBase ? `<URLBase>${urlBase}</URLBase>` : ''}<device><friendlyName>${name}</friendlyName><serviceList><service><serviceType>urn:schemas-upnp-org:service:WANIPConnection:2</serviceType><controlURL>${control}</controlURL></service></serviceList></device></root>`;

test('a LOCATION is trusted only as http:// at the default gateway, and only a private gateway', () => {
  assert.equal(trustedRouterUrl('http://192.168.77.1:5000/rootDesc.xml', '192.168.77.1')?.port, '5000');
  assert.ok(trustedRouterUrl('http://10.0.0.138/d.xml', '10.0.0.138'));
  assert.ok(trustedRouterUrl('http://172.31.255.1:1900/d.xml', '172.31.255.1'));
  assert.equal(trustedRouterUrl('http://192.168.77.20:5000/rootDesc.xml', '192.168.77.1'), null, 'another LAN device');
  assert.equal(trustedRouterUrl('http://127.0.0.1:8443/api', '192.168.77.1'), null, 'loopback');
  assert.equal(trustedRouterUrl('http://localhost:5000/x', '192.168.77.1'), null);
  assert.equal(trustedRouterUrl('https://192.168.77.1/x', '192.168.77.1'), null, 'https: not what IGDs speak');
  assert.equal(trustedRouterUrl('http://u:p@192.168.77.1/x', '192.168.77.1'), null, 'credentials');
  assert.equal(trustedRouterUrl('http://192.168.77.1/x', null), null, 'no gateway, no UPnP');
  for (const gw of ['127.0.0.1', '169.254.1.1', '239.255.255.250', '8.8.8.8', '100.64.0.1', '0.0.0.0', '::1']) {
    assert.equal(isPrivateLanIPv4(gw), false, gw);
    assert.equal(trustedRouterUrl(`http://${gw}/x`, gw), null, `gateway ${gw}`);
  }
});

test('controlURL must stay on the LOCATION origin after URLBase: anything else is skipped', () => {
  const loc = 'http://192.168.77.1:5000/rootDesc.xml';
  assert.equal(parseIgdDescription(description('/ctl/IPConn'), loc)?.controlUrl, 'http://192.168.77.1:5000/ctl/IPConn');
  assert.equal(parseIgdDescription(description('ctl', 'http://192.168.77.1:5000/'), loc)?.controlUrl, 'http://192.168.77.1:5000/ctl');
  assert.equal(parseIgdDescription(description('http://127.0.0.1:8443/api/x'), loc), null, 'absolute controlURL to loopback');
  assert.equal(parseIgdDescription(description('/ctl', 'http://127.0.0.1:8443/'), loc), null, 'URLBase to loopback');
  assert.equal(parseIgdDescription(description('/ctl', 'http://192.168.77.1:5001/'), loc), null, 'another port');
  assert.equal(parseIgdDescription(description('//10.0.0.1/ctl'), loc), null, 'scheme-relative to another host');
});

test('SSDP answers naming loopback or another host are never contacted', async (t) => {
  let requests = 0;
  const server = createServer((_req, res) => {
    requests++;
    res.end(description('/ctl'));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const port = (server.address() as AddressInfo).port;
  const answer = (location: string) => ({ location, searchTarget: IGD2, usn: 'uuid:x' });
  const loopback = answer(`http://127.0.0.1:${port}/rootDesc.xml`);
  assert.equal(await UpnpClient.fromAnswers([loopback], { localAddress: '127.0.0.1', gateway: '192.168.77.1', timeoutMs: 1000 }), null);
  assert.equal(await UpnpClient.fromAnswers([loopback], { localAddress: '127.0.0.1', gateway: '127.0.0.1', timeoutMs: 1000 }), null, 'not even when loopback is the "gateway"');
  assert.equal(await UpnpClient.discover({ localAddress: '127.0.0.1', gateway: '127.0.0.1', timeoutMs: 1000 }), null);
  assert.equal(requests, 0);
});

test('decodeXml: a reference past U+10FFFF or to a surrogate is U+FFFD, not a RangeError', () => {
  assert.equal(decodeXml('a&#x110000;b'), 'a\uFFFDb');
  assert.equal(decodeXml('&#1114112;'), '\uFFFD');
  assert.equal(decodeXml('&#99999999999999999999999;'), '\uFFFD');
  assert.equal(decodeXml('&#xFFFFFFFFFFFFFFFF;'), '\uFFFD');
  assert.equal(decodeXml('&#xD800;'), '\uFFFD');
  assert.equal(decodeXml('&#x1F600;&#65;&amp;'), '😀A&');
  assert.equal(parseSoapValues('<v>&#x110000;</v>', ['v']).v, '\uFFFD');
});

test('router text loses C0/C1 controls: no escape sequence from a friendly name, SOAP value or fault', () => {
  const name = parseIgdDescription(description('/ctl', '', 'Evil&#27;[2J&#27;]0;title&#7;&#x9b;31mR&#10;x'), 'http://192.168.77.1/d.xml')!.friendlyName;
  assert.equal(name, 'Evil[2J]0;title31mRx');
  assert.doesNotMatch(name, /[\x00-\x1f\x7f-\x9f]/);
  const v = parseSoapValues('<NewPortMappingDescription>a&#x1b;[1Ab\u0085c&#127;</NewPortMappingDescription><NewInternalClient>\x1b[31m10.0.0.5</NewInternalClient>', ['NewPortMappingDescription', 'NewInternalClient']);
  assert.deepEqual(v, { NewPortMappingDescription: 'a[1Abc', NewInternalClient: '[31m10.0.0.5' });
  assert.equal(parseSoapFault('<errorCode>718</errorCode><errorDescription>x&#27;]52;c;Zm9v&#7;</errorDescription>')?.description, 'x]52;c;Zm9v');
  assert.equal(routerText('ok é ✓'), 'ok é ✓');
});
