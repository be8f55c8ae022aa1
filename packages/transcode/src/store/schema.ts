import type { Generated } from 'kysely';

/** The transcode package's tables as Kysely sees them. Times are epoch milliseconds. */
export interface TranscodeDatabase {
  videos: {
    id: Generated<number>;
    title: string;
    path: string;
    duration: number;
    width: number;
    height: number;
    size: number;
    created_by: number | null;
    created_at: number;
  };
  transcode_jobs: {
    job_id: string;
    video_id: number;
    /** JSON array of preset names. */
    formats: string;
    status: string;
    progress: number;
    message: string;
    /** JSON array of `{format_type, file_size}`. */
    outputs: string;
    error: string | null;
    created_at: number;
    updated_at: number;
  };
}

export type Dialect = 'sqlite' | 'postgres';
