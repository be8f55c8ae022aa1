// Reference: a bare `ws` broadcast server. A JWT check on connect (HS256 via jose, `exp`
// required: the token comes from `herald token`), then every message is sent to every socket
// (the payload is read once as a Buffer; ws frames it per socket: the library's practical limit).
// Messages arrive as a producer sends them, `POST /publish` (the body is broadcast as it is), or,
// for the secondary broker-injection scenario, on a Redis channel.
import http from 'node:http';
import { jwtVerify } from 'jose';
import { Redis } from 'ioredis';
import { WebSocketServer } from 'ws';

const key = new TextEncoder().encode(process.env.JWT_SECRET);
const channel = process.env.BENCH_CHANNEL;
const clients = new Set();
function broadcast(payload) {
  for (const ws of clients) ws.send(payload, { binary: false });
}

const server = http.createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/publish') return res.end('ok');
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    broadcast(Buffer.concat(chunks));
    res.writeHead(204).end();
  });
});
const wss = new WebSocketServer({ noServer: true, clientTracking: false, perMessageDeflate: false, maxPayload: 4096 });

async function authorised(url) {
  try {
    const token = new URLSearchParams(url.slice(url.indexOf('?') + 1)).get('token');
    const { payload } = await jwtVerify(token ?? '', key, { algorithms: ['HS256'], clockTolerance: 5, requiredClaims: ['exp', 'sub'] });
    return typeof payload.sub === 'string';
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
sub.on('messageBuffer', (_channel, payload) => broadcast(payload));
// Idle keep-alive connections stay open as long as Fastify's (Herald's) do, not Node's default 5 s.
server.keepAliveTimeout = 72_000;
server.listen(Number(process.env.PORT), '127.0.0.1');
