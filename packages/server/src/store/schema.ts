import type { Generated } from 'kysely';

/** Tables as Kysely sees them. Times are epoch milliseconds; booleans are 0/1 integers. */
export interface Database {
  users: {
    id: Generated<number>;
    username: string;
    password_hash: string;
    is_admin: number;
    created_at: number;
    /** `herald` (own account) or `platform` (provisioned from a platform token). */
    source: Generated<string>;
    /** The platform's user id, for platform users. */
    subject: string | null;
    /** Tokens issued at or before this time (epoch seconds) are refused; 0 = none. */
    tokens_valid_after: Generated<number>;
  };
  refresh_tokens: {
    jti: string;
    user_id: number;
    family: string;
    expires_at: number;
    used_at: number | null;
    created_at: number;
  };
  stream_heads: {
    stream: string;
    last_seq: number;
    pruned_seq: number;
  };
  notifications: {
    id: Generated<number>;
    stream: string;
    seq: number;
    type: string;
    payload: string;
    /** The payload's `level`, when it has one (system messages), for filtering. */
    level: string | null;
    created_at: number;
  };
  read_marks: {
    user_id: number;
    notification_id: number;
  };
  read_watermarks: {
    user_id: number;
    stream: string;
    seq: number;
  };
  /** A producer's request made once: per caller (`scope`) and key, the hash of its body and its answer. */
  idempotent_requests: {
    scope: string;
    key: string;
    body_hash: string;
    answer: string;
    created_at: number;
  };
  idempotency_keys: {
    key: string;
    notification_id: number;
    created_at: number;
  };
}

export type Dialect = 'sqlite' | 'postgres';
