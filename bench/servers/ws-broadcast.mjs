// Reference: a bare `ws` broadcast server. Same JWT check as Herald on connect (HS256 via jose,
// typ=access, adm=true), then every message from the Redis channel is sent to every socket
// (the payload is read once as a Buffer; ws frames it per socket: the library's practical limit).
import http from 'node:http';
import { jwtVerify } from 'jose';
import { Redis } from 'ioredis';
import { WebSocketServer } from 'ws';

const key = new TextEncoder().encode(process.env.JWT_SECRET);
const channel = process.env.BENCH_CHANNEL;
const clients = new Set();
const server = http.createServer((req, res) => res.end('ok'));
const wss = new WebSocketServer({ noServer: true, clientTracking: false, perMessageDeflate: false, maxPayload: 4096 });

async function authorised(url) {
  try {
    const token = new URLSearchParams(url.slice(url.indexOf('?') + 1)).get('token');
    const { payload } = await jwtVerify(token ?? '', key, { algorithms: ['HS256'], clockTolerance: 5 });
    return payload.typ === 'access' && payload.adm === true && typeof payload.sub === 'string';
  } catch {
    return false;
  }
}

const ignore = () => {};
server.on('upgrade', (req, socket, head) => {
  socket.on('error', () => socket.destroy());
  void authorised(req.url ?? '').then((ok) => {
    if (socket.destroyed) return;
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('error', ignore);
      if (!ok) return ws.close(4001, 'token invalid');
      clients.add(ws);
      ws.on('close', () => clients.delete(ws));
      ws.send('{"type":"connected"}');
    });
  });
});

const sub = new Redis(process.env.REDIS_URL);
await sub.subscribe(channel);
sub.on('messageBuffer', (_channel, payload) => {
  for (const ws of clients) ws.send(payload, { binary: false });
});
server.listen(Number(process.env.PORT), '127.0.0.1');
