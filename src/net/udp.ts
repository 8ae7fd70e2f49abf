/**
 * One UDP request/answer exchange with a router: a connected socket (so only the router's
 * answers arrive and an ICMP "port unreachable" shows up as ECONNREFUSED), retransmitted at
 * 250 ms and doubling (RFC 6886 §3.1, RFC 6887 §8.1.1) until the time budget runs out.
 */
import { createSocket } from 'node:dgram';
import { isIPv6 } from 'node:net';

export type UdpOutcome<T> = { kind: 'answer'; value: T } | { kind: 'timeout' } | { kind: 'unreachable' };

/** Sends `message` until `accept` returns an answer, the port is unreachable or time is up. */
export function udpExchange<T>(host: string, port: number, message: Buffer, timeoutMs: number, accept: (packet: Buffer) => T | null, initialIntervalMs = 250): Promise<UdpOutcome<T>> {
  return new Promise((resolve) => {
    const socket = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
    let interval = initialIntervalMs;
    let retry: NodeJS.Timeout | undefined;
    let done = false;
    const finish = (outcome: UdpOutcome<T>) => {
      if (done) return;
      done = true;
      clearTimeout(retry);
      clearTimeout(deadline);
      socket.close();
      resolve(outcome);
    };
    const deadline = setTimeout(() => finish({ kind: 'timeout' }), timeoutMs);
    const send = () => {
      socket.send(message, (err) => {
        if (err) finish(isUnreachable(err) ? { kind: 'unreachable' } : { kind: 'timeout' });
      });
      retry = setTimeout(send, interval);
      interval *= 2;
    };
    socket.on('message', (packet) => {
      const value = accept(packet);
      if (value !== null) finish({ kind: 'answer', value });
    });
    socket.on('error', (err) => finish(isUnreachable(err) ? { kind: 'unreachable' } : { kind: 'timeout' }));
    socket.connect(port, host, send);
  });
}

function isUnreachable(err: NodeJS.ErrnoException): boolean {
  return err.code === 'ECONNREFUSED' || err.code === 'EHOSTUNREACH' || err.code === 'ENETUNREACH';
}
