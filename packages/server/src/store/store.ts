import { sql, type Kysely } from 'kysely';
import { migrate, openHandle } from './db.js';
import { InboxStore } from './inbox.js';
import { RetentionStore } from './retention.js';
import type { Database, Dialect } from './schema.js';
import { StreamStore } from './streams.js';
import { UserStore } from './users.js';

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

const toJob = (row: Database['transcode_jobs']): TranscodeJobRow => ({
  ...row,
  video_id: Number(row.video_id),
  formats: JSON.parse(row.formats) as string[],
  outputs: JSON.parse(row.outputs) as TranscodeJobRow['outputs'],
  created_at: new Date(Number(row.created_at)).toISOString(),
  updated_at: new Date(Number(row.updated_at)).toISOString(),
});

/**
 * Herald's persistence, one repository per aggregate over one Kysely handle: `users`
 * (users and refresh tokens), `streams` (appends, reads, heads), `inbox` (pages, unread
 * counts, read state), `retention` (pruning). The dialect (SQLite or PostgreSQL) is chosen
 * once from the configuration, so every query is written once.
 */
export class Store {
  readonly #db: Kysely<Database>;
  readonly dialect: Dialect;
  readonly users: UserStore;
  readonly streams: StreamStore;
  readonly inbox: InboxStore;
  readonly retention: RetentionStore;

  private constructor(db: Kysely<Database>, dialect: Dialect) {
    this.#db = db;
    this.dialect = dialect;
    this.users = new UserStore(db);
    this.streams = new StreamStore(db);
    this.inbox = new InboxStore(db, this.streams);
    this.retention = new RetentionStore(db);
  }

  /** Opens `postgres://…` with the pg driver, anything else as a SQLite file path, and migrates it. */
  static async open(location: string): Promise<Store> {
    const handle = openHandle(location);
    try {
      await migrate(handle);
    } catch (error) {
      await handle.db.destroy().catch(() => undefined);
      throw error;
    }
    return new Store(handle.db, handle.dialect);
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.#db);
  }

  async close(): Promise<void> {
    await this.#db.destroy();
  }

  // ---- videos and transcode jobs ----

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
      const outputs = (JSON.parse(row.outputs) as Array<{ format_type: string; file_size: number }>).filter((o) => o.format_type !== output.format_type);
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
    for (const table of ['idempotency_keys', 'transcode_jobs', 'videos', 'read_marks', 'read_watermarks', 'notifications', 'stream_heads', 'refresh_tokens', 'users'] as const) {
      await this.#db.deleteFrom(table).execute();
    }
  }
}
