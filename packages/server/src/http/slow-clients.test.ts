import { mkdtempSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { commandExists, freePort, requireService, sleep, spawnHerald, type HeraldProcess } from '@herald/testing';

// #19 item 1: one address holding 1,100 slow sockets (a body that never finishes, headers
// that never finish) against a node limited to 1,024 open files. The node must stay
// available to everyone else and cut the attackers by its timeouts. Linux routes all of
// 127/8 on lo, so 127.0.0.2 is the attacker and 127.0.0.1 / 127.0.0.3 are other clients.
const ATTACKER = '127.0.0.2';
const OTHER = '127.0.0.3';
const SLOW_BODY = 800;
const SLOW_HEADERS = 300;
const SERVICE_KEY = 'slow-clients-service-key-0123';
const PASSWORD = 'slow-clients-admin-pw';
const TIMEOUTS = { HTTP_HEADERS_TIMEOUT_MS: '2000', HTTP_REQUEST_TIMEOUT_MS: '4000', HTTP_IDLE_TIMEOUT_MS: '3000' };

interface Attack {
  socket: Socket;
  opened: number;
  closed?: number;
  answer: string;
}

const canRun = requireService('prlimit', commandExists('prlimit'), 'prlimit (util-linux) is needed to start Herald with 1,024 open files');
let node: HeraldProcess;
let dataDir: string;

beforeAll(async () => {
  if (!canRun) return;
  dataDir = mkdtempSync(join(tmpdir(), 'herald-slow-'));
  node = await spawnHerald({
    port: await freePort(),
    wrapper: ['prlimit', '--nofile=1024:1024', '--'],
    env: { ...process.env, HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'warn', JWT_SECRET: 'slow-clients-secret-slow-clients-secret-0123', HERALD_ADMIN_PASSWORD: PASSWORD, HERALD_SERVICE_KEY: SERVICE_KEY, ...TIMEOUTS },
  });
}, 90_000);
afterAll(async () => {
  await node?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

function attack(port: number, kind: 'body' | 'headers'): Attack {
  const socket = connect({ host: '127.0.0.1', port, localAddress: ATTACKER });
  const record: Attack = { socket, opened: Date.now(), answer: '' };
  socket.on('error', () => undefined);
  socket.on('data', (chunk) => (record.answer += chunk.toString('latin1')));
  socket.on('close', () => (record.closed = Date.now()));
  let trickle: NodeJS.Timeout | undefined;
  socket.on('connect', () => {
    if (kind === 'body') socket.write(`POST /api/v1/notifications HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 60000\r\n\r\n{"u`);
    else socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    trickle = setInterval(() => socket.writable && socket.write(kind === 'body' ? 'x' : 'X-Slow: 1\r\n'), 500);
  });
  socket.on('close', () => clearInterval(trickle));
  return record;
}

/** GET /healthz on a new connection each time (no keep-alive: a new client must get in). */
function healthz(url: string): Promise<string> {
  return new Promise((resolve) => {
    const req = get(`${url}/healthz`, { agent: false, timeout: 3000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(String(res.statusCode)));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

describe.runIf(canRun)('slow clients against a node with 1,024 open files', () => {
  it('keeps /healthz and new WebSockets from other addresses served while one address holds 1,100 slow sockets, and cuts the attackers', async () => {
    const port = node.port;
    const probes: string[] = [];
    let probing = true;
    const prober = (async () => {
      while (probing) {
        probes.push(await healthz(node.url));
        await sleep(200);
      }
    })();

    const attacks: Attack[] = [];
    for (let i = 0; i < SLOW_BODY + SLOW_HEADERS; i++) {
      attacks.push(attack(port, i < SLOW_BODY ? 'body' : 'headers'));
      if (i % 50 === 49) await sleep(20);
    }
    await sleep(1000);
    const heldAtPeak = attacks.filter((a) => a.closed === undefined).length;

    // A new WebSocket from another address connects and receives a published notification.
    const login = await fetch(`${node.url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: PASSWORD }) });
    expect(login.status).toBe(200);
    const { access_token: token } = (await login.json()) as { access_token: string };
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api/v1/ws?token=${token}`, { localAddress: OTHER });
    const messages: Array<{ type: string; message?: string }> = [];
    ws.on('message', (data) => messages.push(JSON.parse(data.toString())));
    const opened = await new Promise<string>((resolve) => {
      ws.on('message', () => resolve('open'));
      ws.on('close', (code) => resolve(`closed ${code}`));
      ws.on('error', (error) => resolve(`error ${error.message}`));
    });
    expect(opened).toBe('open');
    const sent = await fetch(`${node.url}/api/v1/notifications`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${SERVICE_KEY}` },
      body: JSON.stringify({ message: 'still here', target: 'all' }),
    });
    expect(sent.status).toBe(202);
    const deadline = Date.now() + 5000;
    while (!messages.some((m) => m.type === 'system_message' && m.message === 'still here') && Date.now() < deadline) await sleep(50);
    expect(messages.some((m) => m.type === 'system_message' && m.message === 'still here')).toBe(true);
    ws.close();

    // The attackers are cut by the timeouts: all gone within the request timeout and a check interval or two.
    const cutBy = Date.now() + 10_000;
    while (attacks.some((a) => a.closed === undefined) && Date.now() < cutBy) await sleep(100);
    probing = false;
    await prober;
    const answerOf = (a: Attack) => a.answer.split('\r\n')[0] || 'closed without an answer';
    const byAnswer: Record<string, { count: number; slowestMs: number }> = {};
    for (const a of attacks) {
      const entry = (byAnswer[answerOf(a)] ??= { count: 0, slowestMs: 0 });
      entry.count += 1;
      entry.slowestMs = Math.max(entry.slowestMs, (a.closed ?? Date.now()) - a.opened);
    }
    const figures = {
      attackers: attacks.length,
      heldAtPeak,
      byAnswer,
      stillOpen: attacks.filter((a) => a.closed === undefined).length,
      healthz: probes.reduce<Record<string, number>>((acc, p) => ({ ...acc, [p]: (acc[p] ?? 0) + 1 }), {}),
    };
    console.log('slow-client attack:', JSON.stringify(figures));
    for (const a of attacks) a.socket.destroy();
    expect(figures.stillOpen).toBe(0);
    expect(probes.length).toBeGreaterThan(5);
    expect(probes.every((p) => p === '200')).toBe(true);
  }, 120_000);
});
