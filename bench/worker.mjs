// Load-generator worker: one process holding many WebSocket clients (forked by run.mjs with IPC).
// Every target (Herald, bare ws, Socket.IO, Nchan) is driven by the same `ws` client code;
// Socket.IO's engine.io/socket.io framing is spoken directly (open, CONNECT with auth, ping/pong).
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { SignJWT } from 'jose';

const now = () => performance.timeOrigin + performance.now(); // ms, sub-ms, consistent across processes
const MARK = Buffer.from('#B');
const RESUMED = Buffer.from('"type":"resumed"');
const OFFSET = Buffer.from('"offset":');
const LN = Math.log(1.01);
const BUCKETS = 2400; // 1% wide latency buckets in µs, up to ~2.3e10 µs

let target; // { kind, url, token }
let addrs = ['127.0.0.1'];
let trackOffset = false;
// Distinct tokens (issued by the target, one per client) so the server verifies every one:
// client i uses tokens[i % tokens.length]; null: every client uses the token in target.url.
let tokens = null;
// Several entry points (e.g. one nginx listen port each): client i connects to urls[i % urls.length],
// so no (source, destination) pair holds more connections than the kernel finds ports for quickly.
let urls = null;
// Personal clients (bench/durable.mjs): client i of this worker is user `users.first + i`, with
// its own platform token (HS256, sub = `${users.prefix}${index}`) put into `users.template`.
let users = null;
let stride = 0; // armed with a stride: message k is for user (k - base) % stride only
const clients = [];
let hist = new Uint32Array(BUCKETS);
let maxLat = 0;
let base = 0; // first sequence number of the armed phase
let count = 0; // messages in the armed phase
let received = 0;
let dups = 0;
let stale = 0;
let wrong = 0; // personal messages that reached a client they were not addressed to
let lastRecvAt = 0;
const closes = new Map();

class Client {
  constructor(i) {
    this.i = i;
    this.ws = null;
    this.ready = false;
    this.slow = false;
    this.open = false;
    this.offset = 0; // Herald: highest offset of the admins stream seen
    this.seen = null;
    this.distinct = 0;
    this.expect = 0; // messages this client must receive in the armed phase
    this.user = users ? users.first + i : -1; // global user index (personal clients)
    this.url = null;
    this.readyPromise = null;
    this.token = tokens === null ? null : tokens[i % tokens.length];
  }
}

/** The client's URL: the target's, with the client's own token when it has one. */
const urlFor = (c) => {
  const url = urls === null ? target.url : urls[c.i % urls.length];
  return c.token === null ? url : url.replace(/([?&]token=)[^&]*/, `$1${encodeURIComponent(c.token)}`);
};

function parseUint(buf, i) {
  let n = 0;
  for (; i < buf.length; i++) {
    const c = buf[i];
    if (c < 48 || c > 57) break;
    n = n * 10 + (c - 48);
  }
  return [n, i];
}

function onPayload(c, buf) {
  const at = buf.indexOf(MARK);
  if (at < 0) return false;
  const [seq, j] = parseUint(buf, at + 2);
  const [sentUs] = parseUint(buf, j + 1);
  if (trackOffset) {
    const o = buf.indexOf(OFFSET);
    if (o >= 0) {
      const [off] = parseUint(buf, o + OFFSET.length);
      if (off > c.offset) c.offset = off;
    }
  }
  if (c.slow) return true;
  let k = seq - base;
  if (k < 0 || k >= count || c.seen === null) {
    stale++;
    return true;
  }
  if (stride > 0) {
    // Personal: this client gets exactly the k with k % stride === its user index.
    if (k % stride !== c.user) {
      wrong++;
      return true;
    }
    k = (k - c.user) / stride;
  }
  if (c.seen[k] === 1) {
    dups++;
    return true;
  }
  c.seen[k] = 1;
  c.distinct++;
  received++;
  const t = now();
  lastRecvAt = t;
  const lat = t * 1000 - sentUs;
  if (lat > maxLat) maxLat = lat;
  const b = lat <= 1 ? 0 : Math.min(BUCKETS - 1, Math.floor(Math.log(lat) / LN));
  hist[b]++;
  return true;
}

const EVENT_END = Buffer.from('\n\n');

/** Herald over Server-Sent Events: one `http` request per client, events split on blank lines. */
function connectSse(c, since) {
  return new Promise((resolve) => {
    let url = urlFor(c);
    if (since && c.offset > 0) url += `&since=admins@${c.offset}`;
    let settled = false;
    const done = (ok) => {
      if (settled) return;
      settled = true;
      c.ready = ok;
      resolve(ok);
    };
    const req = http.get(url, { localAddress: addrs[c.i % addrs.length], agent: false, headers: { accept: 'text/event-stream' } });
    const sock = { readyState: 0, _socket: null, terminate: () => req.destroy(), once: (_e, fn) => req.once('close', fn) };
    c.ws = sock;
    c.ready = false;
    req.on('response', (res) => {
      c.open = true;
      sock.readyState = 1;
      sock._socket = res.socket;
      let rest = null;
      res.on('data', (chunk) => {
        let buf = rest ? Buffer.concat([rest, chunk]) : chunk;
        let from = 0;
        for (let end; (end = buf.indexOf(EVENT_END, from)) !== -1; from = end + 2) {
          const event = buf.subarray(from, end);
          if (onPayload(c, event)) continue;
          if (event.indexOf(RESUMED) >= 0) done(true);
        }
        rest = from < buf.length ? buf.subarray(from) : null;
      });
      res.on('close', () => {
        c.open = false;
        c.ready = false;
        sock.readyState = 3;
        closes.set('sse-end', (closes.get('sse-end') ?? 0) + 1);
        done(false);
      });
    });
    req.on('error', () => done(false));
    req.on('close', () => {
      c.open = false;
      sock.readyState = 3;
      done(false);
    });
  });
}

function connect(c, since) {
  if (target.kind === 'herald-sse') return connectSse(c, since);
  return new Promise((resolve) => {
    let url = c.url ?? urlFor(c);
    if (target.kind === 'herald' && since && c.offset > 0) url += `&since=admins@${c.offset}`;
    const ws = new WebSocket(url, {
      perMessageDeflate: false,
      skipUTF8Validation: true,
      maxPayload: 256 * 1024 * 1024,
      localAddress: addrs[c.i % addrs.length],
      handshakeTimeout: 30000,
    });
    c.ws = ws;
    c.ready = false;
    let settled = false;
    const done = (ok) => {
      if (settled) return;
      settled = true;
      c.ready = ok;
      resolve(ok);
    };
    ws.on('open', () => {
      c.open = true;
      if (target.kind === 'nchan') done(true);
    });
    ws.on('message', (data) => {
      if (target.kind === 'sio') {
        const t = data[0];
        if (t === 50 /* '2' ping */ && data.length === 1) return ws.send('3');
        if (t === 48 /* '0' open */) return ws.send(`40${JSON.stringify({ token: c.token ?? target.token })}`);
        if (t === 52 /* '4' */ && data[1] === 48 /* CONNECT ack */) return done(true);
        if (t === 52 && data[1] === 52 /* CONNECT_ERROR */) return done(false);
        onPayload(c, data);
        return;
      }
      if (onPayload(c, data)) return;
      if (target.kind === 'herald') {
        if (data.indexOf(RESUMED) >= 0) done(true);
      } else if (target.kind === 'ws') done(true);
    });
    ws.on('error', () => done(false));
    ws.on('close', (code) => {
      c.open = false;
      c.ready = false;
      closes.set(code, (closes.get(code) ?? 0) + 1);
      done(false);
    });
  });
}

async function personalUrl(c) {
  const token = await new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(`${users.prefix}${c.user}`)
    .setIssuedAt()
    .setExpirationTime('2h')
    .sign(users.key);
  return users.template.replace('{token}', token);
}

async function connectMany(list, concurrency, since, retryForMs = 0) {
  let ok = 0;
  let failed = 0;
  let retries = 0;
  let next = 0;
  const t0 = now();
  const lane = async () => {
    while (next < list.length) {
      const c = list[next++];
      if (users && !c.url) c.url = await personalUrl(c);
      let done = await connect(c, since);
      // A real client retries with a randomised backoff when the server is overwhelmed.
      while (!done && now() - t0 < retryForMs) {
        retries++;
        await new Promise((resolve) => setTimeout(resolve, 250 + Math.random() * 1750));
        done = await connect(c, since);
      }
      if (done) ok++;
      else failed++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, list.length) }, lane));
  return { ok, failed, retries, ms: now() - t0 };
}

function arm(msg) {
  base = msg.base;
  count = msg.count;
  stride = msg.stride ?? 0;
  received = 0;
  dups = 0;
  stale = 0;
  wrong = 0;
  maxLat = 0;
  lastRecvAt = 0;
  hist = new Uint32Array(BUCKETS);
  for (const c of clients) {
    // Personal (stride): user u gets k = u, u + stride, … below count.
    c.expect = c.ready && !c.slow ? (stride > 0 ? (c.user < count ? Math.floor((count - 1 - c.user) / stride) + 1 : 0) : count) : 0;
    c.seen = c.ready && !c.slow ? new Uint8Array(c.expect) : null;
    c.distinct = 0;
  }
}

function stats() {
  let armed = 0;
  let lost = 0;
  let expected = 0;
  let ready = 0;
  for (const c of clients) {
    if (c.ready) ready++;
    if (c.seen) {
      armed++;
      expected += c.expect;
      lost += c.expect - c.distinct;
    }
  }
  return { clients: clients.length, ready, armed, expected, received, dups, stale, wrong, lost, lastRecvAt, maxLat, hist: Array.from(hist), closes: Object.fromEntries(closes) };
}

process.on('message', async (msg) => {
  let reply;
  try {
    switch (msg.cmd) {
      case 'init':
        target = msg.target;
        addrs = msg.addrs;
        trackOffset = Boolean(msg.trackOffset);
        users = msg.users ? { ...msg.users, key: new TextEncoder().encode(msg.users.secret) } : null;
        tokens = msg.tokens?.length ? msg.tokens : null;
        urls = msg.urls?.length ? msg.urls : null;
        reply = { ok: true };
        break;
      case 'connect': {
        const start = clients.length;
        for (let i = 0; i < msg.n; i++) clients.push(new Client(start + i));
        reply = await connectMany(clients.slice(start), msg.concurrency ?? 100, false);
        break;
      }
      case 'reconnect': {
        // Every closed client reconnects at once, resuming from its last offset.
        const list = clients.filter((c) => !c.open);
        reply = await connectMany(list, list.length || 1, true, msg.retryForMs ?? 0);
        break;
      }
      case 'arm':
        arm(msg);
        reply = { ok: true };
        break;
      case 'progress':
        reply = { received, lastRecvAt };
        break;
      case 'stats':
        reply = stats();
        break;
      case 'pause': {
        let n = 0;
        for (const c of clients) {
          if (n >= msg.n) break;
          if (!c.ready) continue;
          c.slow = true;
          c.seen = null;
          c.ws._socket.pause();
          n++;
        }
        reply = { paused: n };
        break;
      }
      case 'drop': {
        // Close all but `keep` clients (client-initiated close) and forget them.
        const gone = clients.splice(msg.keep);
        await Promise.all(
          gone.map(
            (c) =>
              new Promise((resolve) => {
                if (!c.ws || c.ws.readyState === WebSocket.CLOSED) return resolve();
                c.ws.once('close', resolve);
                c.ws.terminate();
              }),
          ),
        );
        reply = { left: clients.length };
        break;
      }
      case 'exit':
        for (const c of clients) c.ws?.terminate();
        process.send({ id: msg.id, reply: { ok: true } }, () => process.exit(0));
        return;
      default:
        reply = { error: `unknown command ${msg.cmd}` };
    }
  } catch (error) {
    reply = { error: String(error?.stack ?? error) };
  }
  process.send({ id: msg.id, reply });
});

process.on('disconnect', () => process.exit(0));
