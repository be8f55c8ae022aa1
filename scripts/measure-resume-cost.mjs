// Measures what one resume costs the server: `herald serve` with N broadcast rows, then K
// connections with `since=broadcast@0`; the server's CPU time comes from /proc/<pid>/stat.
//   node scripts/measure-resume-cost.mjs [rows=1000] [resumes=20]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { loadTesting } from './testing.mjs';

const rows = Number(process.argv[2] ?? 1000);
const resumes = Number(process.argv[3] ?? 20);
const { freePort, spawnHerald } = await loadTesting();
const dataDir = mkdtempSync(join(tmpdir(), 'herald-resume-cost-'));
const KEY = 'resume-cost-service-key-0123';
const node = await spawnHerald({
  port: await freePort(),
  env: { ...process.env, HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'warn', HERALD_ADMIN_PASSWORD: 'resume-cost-pw', HERALD_SERVICE_KEY: KEY, RESUME_ROWS_PER_MINUTE: '1000000000' },
});
const ticks = () => {
  const fields = readFileSync(`/proc/${node.pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime, in clock ticks (100 per second)
};
try {
  const message = 'x'.repeat(900); // about 1 kB on the wire per row, like a typical system_message
  for (let sent = 0; sent < rows; sent += 50) {
    const batch = Array.from({ length: Math.min(50, rows - sent) }, (_, i) => ({ type: 'system_message', target: 'all', message: `${sent + i} ${message}` }));
    const res = await fetch(`${node.url}/api/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` }, body: JSON.stringify(batch) });
    if (res.status !== 202) throw new Error(`publish: ${res.status} ${await res.text()}`);
  }
  const login = await fetch(`${node.url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: 'resume-cost-pw' }) });
  const { access_token: token } = await login.json();
  const resumeOnce = () =>
    new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${node.port}/api/v1/ws?token=${token}&since=broadcast@0`);
      let bytes = 0;
      ws.on('message', (data) => {
        bytes += data.length;
        const m = JSON.parse(data.toString());
        if (m.type === 'resumed') {
          ws.terminate();
          resolve({ replayed: m.replayed, bytes });
        }
      });
      ws.on('close', (code) => reject(new Error(`closed ${code}`)));
      ws.on('error', reject);
    });
  await resumeOnce(); // warm up
  const before = ticks();
  const started = Date.now();
  let last;
  for (let i = 0; i < resumes; i++) last = await resumeOnce();
  const cpuMs = ((ticks() - before) * 10) / resumes;
  console.log(JSON.stringify({ rows, resumes, replayedPerResume: last.replayed, bytesPerResume: last.bytes, serverCpuMsPerResume: Math.round(cpuMs * 10) / 10, wallMsPerResume: Math.round((Date.now() - started) / resumes) }));
} finally {
  await node.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
