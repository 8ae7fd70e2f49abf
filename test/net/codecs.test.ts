// NAT-PMP and PCP packet encoding/decoding, byte for byte against RFC 6886 / RFC 6887 layouts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as pmp from '../../src/net/natpmp-codec.ts';
import * as pcp from '../../src/net/pcp-codec.ts';

test('NAT-PMP external address request is version 0, opcode 0', () => {
  assert.deepEqual([...pmp.encodeExternalAddressRequest()], [0, 0]);
});

test('NAT-PMP TCP map request: 12 bytes, big-endian ports and lifetime in seconds', () => {
  const b = pmp.encodeMapRequest({ protocol: 'tcp', internalPort: 8443, externalPort: 443, lifetimeSeconds: 1800 });
  assert.equal(b.toString('hex'), '0002' + '0000' + '20fb' + '01bb' + '00000708');
});

test('NAT-PMP map answer decodes (as miniupnpd sends it)', () => {
  const r = pmp.decodeMapResponse(Buffer.from('008200000000282c20fb20fb00000258', 'hex'));
  assert.deepEqual(r, { opcode: 2, resultCode: 0, epochSeconds: 0x282c, internalPort: 8443, externalPort: 8443, lifetimeSeconds: 600 });
});

test('NAT-PMP external address answer decodes; an 8-byte error answer has no address', () => {
  const ok = pmp.decodeExternalAddressResponse(Buffer.from('0080000000000010' + '0b0b0b01', 'hex'));
  assert.deepEqual(ok, { resultCode: 0, epochSeconds: 16, externalAddress: '11.11.11.1' });
  const err = pmp.decodeExternalAddressResponse(Buffer.from('0080000300000010', 'hex'));
  assert.deepEqual(err, { resultCode: 3, epochSeconds: 16, externalAddress: '' });
});

test('NAT-PMP decoders refuse packets that are not answers', () => {
  assert.equal(pmp.decodeMapResponse(Buffer.from('0002000020fb01bb00000708', 'hex')), null, 'a request is not an answer');
  assert.equal(pmp.decodeMapResponse(Buffer.from('0082', 'hex')), null, 'too short');
  assert.equal(pmp.decodeExternalAddressResponse(Buffer.from('0282000000000000', 'hex')), null, 'PCP version');
});

test('PCP address encoding: IPv4-mapped IPv6 both ways', () => {
  assert.equal(pcp.encodeAddress('192.168.77.10').toString('hex'), '00000000000000000000ffffc0a84d0a');
  assert.equal(pcp.decodeAddress(pcp.encodeAddress('11.11.11.1')), '11.11.11.1');
  assert.equal(pcp.decodeAddress(pcp.encodeAddress('2001:db8::1')), '2001:db8:0:0:0:0:0:1');
});

test('PCP MAP request: 60 bytes, header then nonce/protocol/ports/suggested address', () => {
  const nonce = Buffer.from('0102030405060708090a0b0c', 'hex');
  const b = pcp.encodeMapRequest({
    nonce,
    protocol: 'tcp',
    internalPort: 8443,
    suggestedExternalPort: 443,
    suggestedExternalAddress: '',
    lifetimeSeconds: 1800,
    clientAddress: '192.168.77.10',
  });
  assert.equal(b.length, 60);
  assert.equal(b.subarray(0, 8).toString('hex'), '0201000000000708', 'version 2, opcode MAP, lifetime 1800');
  assert.equal(b.subarray(8, 24).toString('hex'), '00000000000000000000ffffc0a84d0a');
  assert.ok(b.subarray(24, 36).equals(nonce));
  assert.equal(b[36], 6, 'TCP');
  assert.equal(b.readUInt16BE(40), 8443);
  assert.equal(b.readUInt16BE(42), 443);
  assert.equal(b.subarray(44, 60).toString('hex'), '00000000000000000000ffff00000000', 'no address preference');
  assert.throws(() => pcp.encodeMapRequest({ nonce: Buffer.alloc(4), protocol: 'tcp', internalPort: 1, suggestedExternalPort: 0, suggestedExternalAddress: '', lifetimeSeconds: 0, clientAddress: '1.2.3.4' }));
});

test('PCP MAP answer decodes (captured from miniupnpd 2.3.1: NO_RESOURCES with the payload)', () => {
  const r = pcp.decodeResponse(Buffer.from('028100080000001e000027cd0000000000000000000000004e5a9674958e2ee615394cb70600000020fb20fb00000000000000000000ffffcb007101', 'hex'));
  assert.ok(r);
  assert.equal(r.opcode, 1);
  assert.equal(r.resultCode, 8);
  assert.equal(r.lifetimeSeconds, 30);
  assert.equal(r.map?.internalPort, 8443);
  assert.equal(r.map?.externalAddress, '203.0.113.1');
  assert.equal(r.map?.nonce.toString('hex'), '4e5a9674958e2ee615394cb7');
});

test('PCP ANNOUNCE is a bare 24-byte header; a NAT-PMP "unsupported version" reply is recognised', () => {
  const a = pcp.encodeAnnounceRequest('192.168.77.10');
  assert.equal(a.length, 24);
  assert.equal(a[1], 0);
  assert.equal(pcp.decodeResponse(a), null, 'a request (R bit clear) is not a response');
  assert.ok(pcp.isNatpmpVersionReply(Buffer.from('0080000100000010', 'hex')));
  assert.ok(!pcp.isNatpmpVersionReply(Buffer.from('0280000000000000', 'hex')));
});

test('a fresh nonce is 12 random bytes', () => {
  const a = pcp.newNonce();
  assert.equal(a.length, 12);
  assert.ok(!a.equals(pcp.newNonce()));
});
