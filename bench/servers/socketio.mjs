// Reference: Socket.IO 4.8, websocket transport only, same JWT check in a middleware,
// every socket joins the 'admins' room, each Redis message is one room broadcast.
import http from 'node:http';
import { jwtVerify } from 'jose';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';

const key = new TextEncoder().encode(process.env.JWT_SECRET);
const server = http.createServer((req, res) => res.end('ok'));
const io = new Server(server, { transports: ['websocket'], perMessageDeflate: false, serveClient: false, maxHttpBufferSize: 4096 });
io.use(async (socket, next) => {
  try {
    const { payload } = await jwtVerify(String(socket.handshake.auth?.token ?? ''), key, { algorithms: ['HS256'], clockTolerance: 5 });
    if (payload.typ === 'access' && payload.adm === true) return next();
  } catch {
    /* fall through */
  }
  next(new Error('token invalid'));
});
io.on('connection', (socket) => socket.join('admins'));

const sub = new Redis(process.env.REDIS_URL);
await sub.subscribe(process.env.BENCH_CHANNEL);
sub.on('message', (_channel, payload) => io.to('admins').emit('m', payload));
server.listen(Number(process.env.PORT), '127.0.0.1');
