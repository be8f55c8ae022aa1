// Reference: Socket.IO 4.8, websocket transport only, a JWT check in a middleware (HS256 via
// jose, `exp` required: the token comes from `herald token`), every socket joins the 'admins'
// room, each message is one room broadcast. Messages arrive as a producer sends them,
// `POST /publish`, or, for the secondary broker-injection scenario, on a Redis channel.
import http from 'node:http';
import { jwtVerify } from 'jose';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';

const key = new TextEncoder().encode(process.env.JWT_SECRET);
const server = http.createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/publish') return res.end('ok');
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    io.to('admins').emit('m', Buffer.concat(chunks).toString());
    res.writeHead(204).end();
  });
});
const io = new Server(server, { transports: ['websocket'], perMessageDeflate: false, serveClient: false, maxHttpBufferSize: 4096 });
io.use(async (socket, next) => {
  try {
    const { payload } = await jwtVerify(String(socket.handshake.auth?.token ?? ''), key, { algorithms: ['HS256'], clockTolerance: 5, requiredClaims: ['exp', 'sub'] });
    if (typeof payload.sub === 'string') return next();
  } catch {
    /* fall through */
  }
  next(new Error('token invalid'));
});
io.on('connection', (socket) => socket.join('admins'));

const sub = new Redis(process.env.REDIS_URL);
await sub.subscribe(process.env.BENCH_CHANNEL);
sub.on('message', (_channel, payload) => io.to('admins').emit('m', payload));
// Idle keep-alive connections stay open as long as Fastify's (Herald's) do, not Node's default 5 s.
server.keepAliveTimeout = 72_000;
server.listen(Number(process.env.PORT), '127.0.0.1');
