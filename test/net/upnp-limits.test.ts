// Hostile UPnP answers stay cheap: tagText is linear (a 250 KB answer that took seconds), descriptions over 64 KiB and SOAP answers over 16 KiB are cut off with a plain error.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import { LanAnswerTooLarge, lanHttp } from '../../src/net/http-lan.ts';
import { parseIgdDescription, tagText } from '../../src/net/igd-description.ts';
import { MappingError } from '../../src/net/errors.ts';
import { parseSoapValues } from '../../src/net/soap.ts';
import { MAX_DESCRIPTION_BYTES, MAX_SOAP_BYTES, UpnpClient } from '../../src/net/upnp-client.ts';

/** Milliseconds `fn` takes. */
function timed(fn: () => void): number {
  const start = performance.now();
  fn();
  return performance.now() - start;
}

test('tagText and the description parser are linear on 250 KB of unclosed tags', () => {
  const unclosed = '<NewExternalIPAddress>'.repeat(11_500); // ~253 KB
  const prefixed = '<u:NewExternalIPAddress a="1">x'.repeat(8_000);
  const services = '<service><serviceType>'.repeat(11_500);
  const open = '<friendlyName '.repeat(18_000);
  let ms = timed(() => assert.equal(tagText(unclosed, 'NewExternalIPAddress'), ''));
  ms += timed(() => assert.equal(tagText(prefixed, 'NewExternalIPAddress'), ''));
  ms += timed(() => assert.equal(parseSoapValues(unclosed, ['NewExternalIPAddress', 'NewReservedPort']).NewReservedPort, ''));
  ms += timed(() => assert.equal(parseIgdDescription(services, 'http://192.168.77.1/d.xml'), null));
  ms += timed(() => assert.equal(tagText(open, 'friendlyName'), ''));
  assert.ok(ms < 500, `took ${Math.round(ms)} ms (the old regex took seconds)`);
});

test('tagText keeps what the regex matched: prefixes, attributes, first element, similar names', () => {
  assert.equal(tagText('<s:Body><u:X a="1"> v </u:X></s:Body>', 'X'), 'v');
  assert.equal(tagText('<XY>no</XY><X>yes</X><X>second</X>', 'X'), 'yes');
  assert.equal(tagText('<aX>no</aX><X>yes</X>', 'X'), 'yes');
  assert.equal(tagText('<X>a</Y></X>', 'X'), 'a</Y>');
  assert.equal(tagText('<X>open only', 'X'), '');
  assert.equal(tagText('<:X>no</:X>', 'X'), '');
  assert.equal(tagText('</X><X>1</X>', 'X'), '1');
});

async function serve(t: TestContext, answer: (res: ServerResponse) => void): Promise<string> {
  const server = createServer((req, res) => {
    req.resume();
    answer(res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

test('a description over 64 KiB is refused, streamed (no Content-Length) or announced; 60 KB is read', async (t) => {
  const big = 'x'.repeat(MAX_DESCRIPTION_BYTES + 1);
  const streamed = await serve(t, (res) => {
    res.write(big.slice(0, 40_000));
    setImmediate(() => res.end(big.slice(40_000)));
  });
  await assert.rejects(lanHttp(streamed, { timeoutMs: 2000, maxBytes: MAX_DESCRIPTION_BYTES }), (e: Error) => e instanceof LanAnswerTooLarge && /larger than 64 KiB/.test(e.message));
  const announced = await serve(t, (res) => {
    res.writeHead(200, { 'Content-Length': String(big.length) });
    res.write('x'); // the rest never comes: the announced length alone is enough to refuse
  });
  await assert.rejects(lanHttp(announced, { timeoutMs: 2000, maxBytes: MAX_DESCRIPTION_BYTES }), LanAnswerTooLarge);
  const fits = await serve(t, (res) => res.end('y'.repeat(60_000)));
  assert.equal((await lanHttp(fits, { timeoutMs: 2000, maxBytes: MAX_DESCRIPTION_BYTES })).body.length, 60_000);
});

test('a SOAP answer over 16 KiB fails the action with a plain MappingError', async (t) => {
  const url = await serve(t, (res) => {
    res.writeHead(200, { 'Content-Type': 'text/xml' });
    res.end(`<s:Envelope><s:Body><u:GetExternalIPAddressResponse><NewExternalIPAddress>${' '.repeat(MAX_SOAP_BYTES)}11.1.1.1</NewExternalIPAddress></u:GetExternalIPAddressResponse></s:Body></s:Envelope>`);
  });
  const client = new UpnpClient({ serviceType: 'urn:schemas-upnp-org:service:WANIPConnection:2', controlUrl: `${url}ctl`, version: 2, friendlyName: 'x' }, '127.0.0.1', 2000);
  await assert.rejects(client.externalAddress(), (e: Error) => e instanceof MappingError && e.message === "UPnP GetExternalIPAddress: the router's answer is larger than 16 KiB, so it was not read");
});

test('GetExternalIPAddress: text that is not an IP address is no address', async (t) => {
  const url = await serve(t, (res) => res.end('<NewExternalIPAddress>\x1b[2J11.1.1.1</NewExternalIPAddress>'));
  const client = new UpnpClient({ serviceType: 'urn:schemas-upnp-org:service:WANIPConnection:2', controlUrl: `${url}ctl`, version: 2, friendlyName: 'x' }, '127.0.0.1', 2000);
  assert.equal(await client.externalAddress(), null);
});
