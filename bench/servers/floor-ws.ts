/**
 * The raw-`ws` floor: the least a server can do to speak chatroom's WebSocket protocol.
 * `Map<conv, Set<socket>>` and `send()` in a loop — idiomatic ws, which frames the message once
 * per recipient. It answers the same client frames as the project (`sub`, `send`) with frames of
 * the same shape and size (`subscribed`, `msg` to every other subscriber, `ack` to the sender —
 * exactly what src/realtime/handlers.ts does), so the load generator cannot tell the two apart.
 * No auth, no storage, no validation.
 */
import { WebSocketServer, type WebSocket } from 'ws';
import { randomBytes } from 'node:crypto';
import { roomCount } from '../lib/layout.ts';
import { announceReady, installHarness, readBenchEnv } from './harness.ts';

const env = readBenchEnv();
const started = performance.now();

/** 22-character ids like src/server/auth/tokens.ts newId(), so frames match the project's size. */
const newId = () => randomBytes(16).toString('base64url');
const convs = Array.from({ length: roomCount(env.layout) }, newId);

interface Room {
  members: Set<WebSocket>;
  head: number;
}
const rooms = new Map<string, Room>(convs.map((id) => [id, { members: new Set(), head: 0 }]));

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/ws', perMessageDeflate: false });
let connections = 0;

wss.on('connection', (ws) => {
  // The floor has no accounts: each socket is its own sender, named like the project's users.
  const sender = newId();
  const senderName = `bench${String(connections++ % 100000).padStart(5, '0')}`;
  const joined: Room[] = [];

  ws.on('message', (data) => {
    let frame: { t?: unknown; conv?: unknown; ref?: unknown; body?: unknown };
    try {
      frame = JSON.parse(data.toString());
    } catch {
      return;
    }
    const conv = typeof frame.conv === 'string' ? frame.conv : '';
    const room = rooms.get(conv);
    if (!room) return;
    if (frame.t === 'send') {
      const seq = ++room.head;
      const ts = Date.now();
      const msg = JSON.stringify({ t: 'msg', conv, seq, sender, senderName, ts, body: frame.body });
      ws.send(JSON.stringify({ t: 'ack', ref: frame.ref, conv, seq, ts }));
      for (const peer of room.members) if (peer !== ws) peer.send(msg);
    } else if (frame.t === 'sub') {
      room.members.add(ws);
      joined.push(room);
      ws.send(JSON.stringify({ t: 'subscribed', conv, head: room.head }));
    }
  });
  ws.on('close', () => {
    for (const room of joined) room.members.delete(ws);
  });
});

wss.on('listening', () => {
  const addr = wss.address();
  if (!addr || typeof addr === 'string') throw new Error('floor: no TCP address');
  installHarness(env.statsFile, () => new Promise((resolve) => {
    for (const ws of wss.clients) ws.terminate();
    wss.close(() => resolve());
  }));
  announceReady({ port: addr.port, convs, setupMs: Math.round(performance.now() - started) });
});
