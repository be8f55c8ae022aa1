import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import { MIGRATION_LOCK_TABLE, MIGRATION_TABLE, TranscodeMigrations } from './migrations.js';
import type { Dialect, TranscodeDatabase } from './schema.js';

export interface Video {
  id: number;
  title: string;
  path: string;
  duration: number;
  width: number;
  height: number;
  size: number;
  created_by: number | null;
  created_at: string;
}

export interface TranscodeJobRow {
  job_id: string;
  video_id: number;
  formats: string[];
  status: string;
  progress: number;
  message: string;
  outputs: Array<{ format_type: string; file_size: number }>;
  error: string | null;
  created_at: string;
  updated_at: string;
}

const toVideo = (row: Omit<Video, 'created_at'> & { created_at: number }): Video => ({
  ...row,
  id: Number(row.id),
  duration: Number(row.duration),
  size: Number(row.size),
  created_by: row.created_by === null ? null : Number(row.created_by),
  created_at: new Date(Number(row.created_at)).toISOString(),
});

const toJob = (row: TranscodeDatabase['transcode_jobs']): TranscodeJobRow => ({
  ...row,
  video_id: Number(row.video_id),
  progress: Number(row.progress),
  formats: JSON.parse(row.formats) as string[],
  outputs: JSON.parse(row.outputs) as TranscodeJobRow['outputs'],
  created_at: new Date(Number(row.created_at)).toISOString(),
  updated_at: new Date(Number(row.updated_at)).toISOString(),
});

/**
 * Videos and transcode jobs, on the same database as Herald (a SQLite file or PostgreSQL)
 * but through this package's own connection and migration list.
 */
export class VideoStore {
  readonly #db: Kysely<TranscodeDatabase>;
  readonly #owned: boolean;
  readonly dialect: Dialect;

  private constructor(db: Kysely<TranscodeDatabase>, dialect: Dialect, owned: boolean) {
    this.#db = db;
    this.dialect = dialect;
    this.#owned = owned;
  }

  /** Opens `postgres://…` with the pg driver, anything else as a SQLite file path, and migrates. */
  static async open(location: string): Promise<VideoStore> {
    const store = location.startsWith('postgres') ? VideoStore.#postgres(location) : VideoStore.#sqlite(location);
    await store.migrate();
    return store;
  }

  /** Uses a Kysely handle the host already holds (not closed by `close()`), and migrates. */
  static async attach(db: Kysely<any>, dialect: Dialect): Promise<VideoStore> {
    const store = new VideoStore(db as Kysely<TranscodeDatabase>, dialect, false);
    await store.migrate();
    return store;
  }

  static #sqlite(file: string): VideoStore {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true, mode: 0o700 }); // as the hub's store: owner only
    const database = new SQLite(file);
    database.pragma('journal_mode = WAL');
    database.pragma('synchronous = NORMAL');
    database.pragma('foreign_keys = ON');
    database.pragma('busy_timeout = 5000');
    return new VideoStore(new Kysely({ dialect: new SqliteDialect({ database }) }), 'sqlite', true);
  }

  static #postgres(url: string): VideoStore {
    // Few connections: uploads and status changes are rare next to the host's traffic.
    const pool = new pg.Pool({ connectionString: url, max: 4, connectionTimeoutMillis: 5000 });
    pool.on('error', () => undefined);
    pool.on('connect', (client) => {
      client.on('error', () => undefined);
    });
    return new VideoStore(new Kysely({ dialect: new PostgresDialect({ pool }) }), 'postgres', true);
  }

  async migrate(): Promise<void> {
    const migrationTableSchema =
      this.dialect === 'postgres' ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(this.#db)).rows[0]?.schema : undefined;
    const migrator = new Migrator({
      db: this.#db,
      provider: new TranscodeMigrations(this.dialect),
      migrationTableName: MIGRATION_TABLE,
      migrationLockTableName: MIGRATION_LOCK_TABLE,
      ...(migrationTableSchema ? { migrationTableSchema } : {}),
    });
    const { error } = await migrator.migrateToLatest();
    if (error) throw error;
  }

  async close(): Promise<void> {
    if (this.#owned) await this.#db.destroy();
  }

  async createVideo(video: Omit<Video, 'id' | 'created_at'>): Promise<Video> {
    const row = await this.#db
      .insertInto('videos')
      .values({ ...video, created_at: Date.now() })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toVideo(row);
  }

  async findVideo(id: number): Promise<Video | undefined> {
    const row = await this.#db.selectFrom('videos').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toVideo(row);
  }

  async listVideos(limit = 200): Promise<Video[]> {
    const rows = await this.#db.selectFrom('videos').selectAll().orderBy('id', 'desc').limit(limit).execute();
    return rows.map(toVideo);
  }

  async createJob(jobId: string, videoId: number, formats: string[], status: string): Promise<void> {
    const now = Date.now();
    await this.#db
      .insertInto('transcode_jobs')
      .values({ job_id: jobId, video_id: videoId, formats: JSON.stringify(formats), status, progress: 0, message: '', outputs: '[]', error: null, created_at: now, updated_at: now })
      .execute();
  }

  /** Records a status change (never called per progress tick). */
  async updateJob(jobId: string, change: { status?: string; progress?: number; message?: string; error?: string | null }): Promise<void> {
    await this.#db.updateTable('transcode_jobs').set({ ...change, updated_at: Date.now() }).where('job_id', '=', jobId).execute();
  }

  async addJobOutput(jobId: string, output: { format_type: string; file_size: number }): Promise<void> {
    await this.#db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom('transcode_jobs').select('outputs').where('job_id', '=', jobId).executeTakeFirst();
      if (!row) return;
      const outputs = (JSON.parse(row.outputs) as TranscodeJobRow['outputs']).filter((o) => o.format_type !== output.format_type);
      outputs.push(output);
      await trx.updateTable('transcode_jobs').set({ outputs: JSON.stringify(outputs), updated_at: Date.now() }).where('job_id', '=', jobId).execute();
    });
  }

  async findJob(jobId: string): Promise<TranscodeJobRow | undefined> {
    const row = await this.#db.selectFrom('transcode_jobs').selectAll().where('job_id', '=', jobId).executeTakeFirst();
    return row && toJob(row);
  }

  /** Jobs that were waiting or running (for the in-process queue to pick up again after a restart). */
  async unfinishedJobs(): Promise<TranscodeJobRow[]> {
    const rows = await this.#db.selectFrom('transcode_jobs').selectAll().where('status', 'in', ['queued', 'processing', 'retrying', 'pending']).orderBy('created_at').execute();
    return rows.map(toJob);
  }

  /** The most recent job of each of the videos. */
  async latestJobs(videoIds: number[]): Promise<Map<number, TranscodeJobRow>> {
    const result = new Map<number, TranscodeJobRow>();
    if (videoIds.length === 0) return result;
    const rows = await this.#db.selectFrom('transcode_jobs').selectAll().where('video_id', 'in', videoIds).orderBy('created_at', 'asc').execute();
    for (const row of rows) result.set(Number(row.video_id), toJob(row));
    return result;
  }

  /** For tests: removes every row. */
  async truncateAll(): Promise<void> {
    await this.#db.deleteFrom('transcode_jobs').execute();
    await this.#db.deleteFrom('videos').execute();
  }
}
