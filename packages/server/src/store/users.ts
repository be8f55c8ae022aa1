import { ADMIN_STREAM, BROADCAST_STREAM } from '@herald/protocol';
import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';

export interface User {
  id: number;
  username: string;
  is_admin: boolean;
  created_at: string;
  /** `herald` for Herald's own accounts, `platform` for users provisioned from a platform token. */
  source: 'herald' | 'platform';
  /** The platform's user id (platform users only). */
  subject: string | null;
  /** Tokens issued at or before this time (epoch seconds) are refused; 0 = none. */
  tokens_valid_after: number;
}

export interface UserWithHash extends User {
  password_hash: string;
}

export type RefreshUse =
  | { ok: true; userId: number; family: string }
  | { ok: false; reason: 'unknown' | 'expired' | 'reused' };

type UserRow = { id: number; username: string; is_admin: number; created_at: number; source: string; subject: string | null; tokens_valid_after: number };

const toUser = (row: UserRow): User => ({
  id: Number(row.id),
  username: row.username,
  is_admin: Number(row.is_admin) === 1,
  created_at: new Date(Number(row.created_at)).toISOString(),
  source: row.source === 'platform' ? 'platform' : 'herald',
  subject: row.subject,
  tokens_valid_after: Number(row.tokens_valid_after),
});

const USER_COLUMNS = ['id', 'username', 'is_admin', 'created_at', 'source', 'subject', 'tokens_valid_after'] as const;
/** A platform user cannot sign in with a password: this is no scrypt hash. */
const NO_PASSWORD = '!platform';

/** Users and their refresh tokens. */
export class UserStore {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  /**
   * Creates a user whose unread count starts now: the shared streams they read (broadcast,
   * and admins for an administrator) get a read watermark at their current heads, so what
   * was sent before the account existed is listed as read, never counted as unread.
   */
  async create(username: string, passwordHash: string, isAdmin: boolean): Promise<User> {
    return this.#db.transaction().execute(async (trx) => {
      const row = await trx
        .insertInto('users')
        .values({ username, password_hash: passwordHash, is_admin: isAdmin ? 1 : 0, created_at: Date.now() })
        .returning([...USER_COLUMNS])
        .executeTakeFirstOrThrow();
      await startReadingAtHeads(trx, Number(row.id), isAdmin ? [BROADCAST_STREAM, ADMIN_STREAM] : [BROADCAST_STREAM]);
      return toUser(row);
    });
  }

  async findById(id: number): Promise<User | undefined> {
    const row = await this.#db.selectFrom('users').select([...USER_COLUMNS]).where('id', '=', id).executeTakeFirst();
    return row && toUser(row);
  }

  /** The platform user with this subject, or undefined. */
  async findBySubject(subject: string): Promise<User | undefined> {
    const row = await this.#db.selectFrom('users').select([...USER_COLUMNS]).where('source', '=', 'platform').where('subject', '=', subject).executeTakeFirst();
    return row && toUser(row);
  }

  /**
   * The platform user with this subject, created on first use. Two nodes provisioning the
   * same subject at once both get the one row (the unique (source, subject) pair decides).
   */
  async provision(subject: string, username: string): Promise<User> {
    const existing = await this.findBySubject(subject);
    if (existing) return existing;
    try {
      // Like a new account, a platform user's unread count of broadcasts starts when Herald first sees them.
      return await this.#db.transaction().execute(async (trx) => {
        const row = await trx
          .insertInto('users')
          .values({ username, password_hash: NO_PASSWORD, is_admin: 0, created_at: Date.now(), source: 'platform', subject })
          .returning([...USER_COLUMNS])
          .executeTakeFirstOrThrow();
        await startReadingAtHeads(trx, Number(row.id), [BROADCAST_STREAM]);
        return toUser(row);
      });
    } catch (error) {
      const raced = await this.findBySubject(subject);
      if (raced) return raced;
      throw error;
    }
  }

  async setPassword(id: number, passwordHash: string): Promise<void> {
    await this.#db.updateTable('users').set({ password_hash: passwordHash }).where('id', '=', id).execute();
  }

  /** Refuses every token of the user issued at or before `epochSeconds` (kept across restarts, seen by every node). */
  async revokeTokensBefore(id: number, epochSeconds: number): Promise<boolean> {
    const result = await this.#db.updateTable('users').set({ tokens_valid_after: epochSeconds }).where('id', '=', id).executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** The users with these ids, by id (500 per query): a publish target's users in a few round trips. */
  async findByIds(ids: readonly number[]): Promise<Map<number, User>> {
    const found = new Map<number, User>();
    for (let i = 0; i < ids.length; i += 500) {
      const rows = await this.#db.selectFrom('users').select([...USER_COLUMNS]).where('id', 'in', ids.slice(i, i + 500)).execute();
      for (const row of rows) found.set(Number(row.id), toUser(row));
    }
    return found;
  }

  /** The platform users with these subjects, by subject (500 per query). */
  async findBySubjects(subjects: readonly string[]): Promise<Map<string, User>> {
    const found = new Map<string, User>();
    for (let i = 0; i < subjects.length; i += 500) {
      const rows = await this.#db.selectFrom('users').select([...USER_COLUMNS]).where('source', '=', 'platform').where('subject', 'in', subjects.slice(i, i + 500)).execute();
      for (const row of rows) if (row.subject !== null) found.set(row.subject, toUser(row));
    }
    return found;
  }

  async findByUsername(username: string): Promise<UserWithHash | undefined> {
    const row = await this.#db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();
    return row && row.source !== 'platform' ? { ...toUser(row), password_hash: row.password_hash } : undefined;
  }

  async list(): Promise<User[]> {
    const rows = await this.#db.selectFrom('users').select([...USER_COLUMNS]).orderBy('id').execute();
    return rows.map(toUser);
  }

  /** A new administrator's admins stream starts unread at its current head, as a new account's streams do. */
  async setAdmin(id: number, isAdmin: boolean): Promise<User | undefined> {
    await this.#db.transaction().execute(async (trx) => {
      const before = await trx.selectFrom('users').select('is_admin').where('id', '=', id).executeTakeFirst();
      await trx.updateTable('users').set({ is_admin: isAdmin ? 1 : 0 }).where('id', '=', id).execute();
      // Promoted (not re-promoted): what the admins stream carried meanwhile was not theirs to read.
      if (isAdmin && before && Number(before.is_admin) !== 1) await startReadingAtHeads(trx, id, [ADMIN_STREAM], true);
    });
    return this.findById(id);
  }

  async delete(id: number): Promise<boolean> {
    const result = await this.#db.deleteFrom('users').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async countAdmins(): Promise<number> {
    const row = await this.#db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).where('is_admin', '=', 1).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  // ---- refresh tokens ----

  async saveRefreshToken(jti: string, userId: number, family: string, expiresAt: number): Promise<void> {
    await this.#db
      .insertInto('refresh_tokens')
      .values({ jti, user_id: userId, family, expires_at: expiresAt, used_at: null, created_at: Date.now() })
      .execute();
  }

  /** Revokes a whole refresh token family (sign-out). */
  async revokeRefreshFamily(family: string): Promise<void> {
    await this.#db.updateTable('refresh_tokens').set({ used_at: Date.now() }).where('family', '=', family).where('used_at', 'is', null).execute();
  }

  /** Revokes every refresh token of a user (password change). */
  async revokeRefreshTokensOf(userId: number): Promise<void> {
    await this.#db.updateTable('refresh_tokens').set({ used_at: Date.now() }).where('user_id', '=', userId).where('used_at', 'is', null).execute();
  }

  /**
   * Consumes a refresh token once. A second use of the same token is treated as theft:
   * the whole token family is revoked.
   */
  async useRefreshToken(jti: string): Promise<RefreshUse> {
    return this.#db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom('refresh_tokens').selectAll().where('jti', '=', jti).executeTakeFirst();
      if (!row) return { ok: false, reason: 'unknown' } as const;
      if (row.used_at !== null) {
        await trx.updateTable('refresh_tokens').set({ used_at: Date.now() }).where('family', '=', row.family).where('used_at', 'is', null).execute();
        return { ok: false, reason: 'reused' } as const;
      }
      if (Number(row.expires_at) <= Date.now()) return { ok: false, reason: 'expired' } as const;
      const updated = await trx.updateTable('refresh_tokens').set({ used_at: Date.now() }).where('jti', '=', jti).where('used_at', 'is', null).executeTakeFirst();
      if (Number(updated.numUpdatedRows) !== 1) return { ok: false, reason: 'reused' } as const;
      return { ok: true, userId: Number(row.user_id), family: row.family } as const;
    });
  }
}

/** Read watermarks at the streams' heads; an existing one is kept, or with `replace` moved to the head. */
async function startReadingAtHeads(db: Kysely<Database>, userId: number, streams: string[], replace = false): Promise<void> {
  const heads = await db.selectFrom('stream_heads').select(['stream', 'last_seq']).where('stream', 'in', streams).execute();
  const values = heads.filter((h) => Number(h.last_seq) > 0).map((h) => ({ user_id: userId, stream: h.stream, seq: Number(h.last_seq) }));
  if (values.length === 0) return;
  await db
    .insertInto('read_watermarks')
    .values(values)
    .onConflict((oc) => (replace ? oc.columns(['user_id', 'stream']).doUpdateSet({ seq: sql<number>`excluded.seq` }) : oc.columns(['user_id', 'stream']).doNothing()))
    .execute();
}
