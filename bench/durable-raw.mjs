#!/usr/bin/env node
// The raw insert rate that bench/durable.mjs compares Herald with: the rows Herald writes for
// a personal stored notification (stream_heads upsert for the next offset, then the
// notifications row: stream, seq, type, payload, level, created_at), one transaction per batch,
// written straight into a database Herald migrated (better-sqlite3 / pg, no Herald code).
// Run as a child pinned to Herald's core by durable.mjs:
//   node bench/durable-raw.mjs '{"store":"sqlite","file":"…/herald.db","mode":"rows","users":10000,"batches":100,"batch":500}'
// Modes: `rows`: the two statements Herald issues per row, prepared once (SQL text as Kysely
// compiles Herald's queries); `multi`: two multi-row statements per batch (heads of the batch's
// streams in one upsert, then every row in one insert), the fastest way these rows go in.
// Prints one JSON line: { events, seconds, rate, cpuUsPerEvent }.
import { performance } from 'node:perf_hooks';

const o = JSON.parse(process.argv[2]);
const { users, batches, batch } = o;
const base = o.firstUserId ?? 2;
const streamOf = (k) => `user:${base + (k % users)}`;
const row = (k) => {
  const payload = { message: `#B${k}:${Math.round((performance.timeOrigin + performance.now()) * 1000)}#`, level: 'info', timestamp: new Date().toISOString() };
  return { stream: streamOf(k), type: 'system_message', payload: JSON.stringify(payload), level: 'info' };
};

const HEAD = 'insert into "stream_heads" ("stream", "last_seq", "pruned_seq") values ($1, $2, $3) on conflict ("stream") do update set "last_seq" = stream_heads.last_seq + 1 returning "last_seq"';
const NOTE = 'insert into "notifications" ("stream", "seq", "type", "payload", "level", "created_at") values ($1, $2, $3, $4, $5, $6) returning "id"';
const q = (text) => text.replace(/\$\d+/g, '?');

async function sqlite() {
  const { default: SQLite } = await import('better-sqlite3');
  const db = new SQLite(o.file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  const head = db.prepare(q(HEAD));
  const note = db.prepare(q(NOTE));
  let write;
  if (o.mode === 'rows') {
    write = db.transaction((rows, now) => {
      for (const r of rows) {
        const seq = head.get(r.stream, 1, 0).last_seq;
        note.get(r.stream, seq, r.type, r.payload, r.level, now);
      }
    });
  } else {
    const heads = new Map();
    const notes = new Map();
    const headsFor = (n) => heads.get(n) ?? heads.set(n, db.prepare(`insert into stream_heads (stream, last_seq, pruned_seq) values ${Array(n).fill('(?, ?, 0)').join(', ')} on conflict (stream) do update set last_seq = stream_heads.last_seq + excluded.last_seq returning stream, last_seq`)).get(n);
    const notesFor = (n) => notes.get(n) ?? notes.set(n, db.prepare(`insert into notifications (stream, seq, type, payload, level, created_at) values ${Array(n).fill('(?, ?, ?, ?, ?, ?)').join(', ')} returning id`)).get(n);
    write = db.transaction((rows, now) => {
      const count = new Map();
      for (const r of rows) count.set(r.stream, (count.get(r.stream) ?? 0) + 1);
      const last = new Map(headsFor(count.size).all([...count].flat()).map((h) => [h.stream, h.last_seq]));
      const next = new Map([...count].map(([s, n]) => [s, last.get(s) - n + 1]));
      const args = [];
      for (const r of rows) {
        const seq = next.get(r.stream);
        next.set(r.stream, seq + 1);
        args.push(r.stream, seq, r.type, r.payload, r.level, now);
      }
      notesFor(rows.length).all(args);
    });
  }
  const t0 = performance.now();
  for (let b = 0; b < batches; b++) write(Array.from({ length: batch }, (_, i) => row(b * batch + i)), Date.now());
  const seconds = (performance.now() - t0) / 1000;
  db.close();
  return seconds;
}

async function postgres() {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: o.url });
  await client.connect();
  const t0 = performance.now();
  for (let b = 0; b < batches; b++) {
    const rows = Array.from({ length: batch }, (_, i) => row(b * batch + i));
    const now = Date.now();
    await client.query('begin');
    if (o.mode === 'rows') {
      for (const r of rows) {
        const { rows: h } = await client.query({ name: 'head', text: HEAD, values: [r.stream, 1, 0] });
        await client.query({ name: 'note', text: NOTE, values: [r.stream, h[0].last_seq, r.type, r.payload, r.level, now] });
      }
    } else {
      const count = new Map();
      for (const r of rows) count.set(r.stream, (count.get(r.stream) ?? 0) + 1);
      const { rows: h } = await client.query({
        name: 'heads',
        text: 'insert into stream_heads (stream, last_seq, pruned_seq) select s, n, 0 from unnest($1::text[], $2::bigint[]) as t(s, n) on conflict (stream) do update set last_seq = stream_heads.last_seq + excluded.last_seq returning stream, last_seq',
        values: [[...count.keys()], [...count.values()]],
      });
      const next = new Map(h.map((x) => [x.stream, Number(x.last_seq) - count.get(x.stream) + 1]));
      const cols = [[], [], [], [], [], []];
      for (const r of rows) {
        const seq = next.get(r.stream);
        next.set(r.stream, seq + 1);
        [r.stream, seq, r.type, r.payload, r.level, now].forEach((v, i) => cols[i].push(v));
      }
      await client.query({
        name: 'notes',
        text: 'insert into notifications (stream, seq, type, payload, level, created_at) select * from unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::bigint[]) returning id',
        values: cols,
      });
    }
    await client.query('commit');
  }
  const seconds = (performance.now() - t0) / 1000;
  await client.end();
  return seconds;
}

const cpu0 = process.cpuUsage();
const seconds = o.store === 'sqlite' ? await sqlite() : await postgres();
const cpu = process.cpuUsage(cpu0);
const events = batches * batch;
// CPU of this process only: for SQLite that is all the work; for PostgreSQL the server's backend works too.
process.stdout.write(`${JSON.stringify({ store: o.store, mode: o.mode, events, seconds, rate: events / seconds, cpuUsPerEvent: (cpu.user + cpu.system) / events })}\n`);
