#!/usr/bin/env node
// Publish throughput of `POST /api/v1/events`, single events against batches, side by side.
// Starts one Herald process (embedded default: SQLite, in-process broker) with a service key,
// publishes stored `system_message`s to the admins' stream and reports events/s per mode.
//
//   node bench/publish.mjs                          # 4000 events per mode, 8 requests in flight
//   node bench/publish.mjs --events 10000 --concurrency 16 --batch 500
//   DATABASE_URL=postgresql://127.0.0.1:5432/test node bench/publish.mjs   # PostgreSQL instead
//
// Modes: single (one event per request, --concurrency requests in flight), batch of --batch
// (sequential: one request, one transaction), batch with the same concurrency.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testing } from './lib.mjs';

const argv = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i < 0 ? fallback : Number(argv[i + 1]);
};
const EVENTS = opt('events', 4000);
const CONCURRENCY = opt('concurrency', 8);
const BATCH = opt('batch', 500);
const KEY = 'bench-publish-service-key-0123456789';

const dataDir = mkdtempSync(join(tmpdir(), 'herald-publish-'));
const port = await testing.freePort();
const herald = await testing.spawnHerald({
  port,
  env: { ...process.env, DATA_DIR: dataDir, HERALD_SERVICE_KEY: KEY, LOG_LEVEL: 'warn', REDIS_URL: '' },
});

async function post(body) {
  const res = await fetch(`${herald.url}/api/v1/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (res.status !== 202) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
  await res.arrayBuffer();
}

const event = (i) => ({ type: 'system_message', target: 'admin', message: `bench ${i}`, level: 'info' });

/** Sends `requests` bodies with `inFlight` at a time; returns events/s. */
async function measure(requests, inFlight) {
  const started = performance.now();
  let next = 0;
  const workers = Array.from({ length: inFlight }, async () => {
    while (next < requests.length) await post(requests[next++]);
  });
  await Promise.all(workers);
  const seconds = (performance.now() - started) / 1000;
  const events = requests.reduce((n, body) => n + (Array.isArray(body) ? body.length : 1), 0);
  return { events, seconds, rate: events / seconds };
}

const singles = Array.from({ length: EVENTS }, (_, i) => event(i));
const batches = [];
for (let i = 0; i < EVENTS; i += BATCH) batches.push(singles.slice(i, i + BATCH));

try {
  await measure(singles.slice(0, 200), CONCURRENCY); // warm-up (JIT, SQLite cache)
  const rows = [
    [`single (1 event/request, ${CONCURRENCY} in flight)`, await measure(singles, CONCURRENCY)],
    [`batch of ${BATCH} (sequential)`, await measure(batches, 1)],
    [`batch of ${BATCH} (${CONCURRENCY} in flight)`, await measure(batches, CONCURRENCY)],
  ];
  const store = process.env.DATABASE_URL ? 'PostgreSQL' : 'SQLite';
  console.log(`POST /api/v1/events, ${store}, stored system_message to admins, ${EVENTS} events per mode`);
  console.log('| mode | events | seconds | events/s |\n| --- | ---: | ---: | ---: |');
  for (const [mode, r] of rows) console.log(`| ${mode} | ${r.events} | ${r.seconds.toFixed(2)} | ${Math.round(r.rate)} |`);
} finally {
  await herald.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
