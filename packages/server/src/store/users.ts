import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

export interface User {
  id: number;
  username: string;
  is_admin: boolean;
  created_at: string;
}

export interface UserWithHash extends User {
  password_hash: string;
}

export type RefreshUse =
  | { ok: true; userId: number; family: string }
  | { ok: false; reason: 'unknown' | 'expired' | 'reused' };

const toUser = (row: { id: number; username: string; is_admin: number; created_at: number }): User => ({
  id: Number(row.id),
  username: row.username,
  is_admin: Number(row.is_admin) === 1,
  created_at: new Date(Number(row.created_at)).toISOString(),
});

/** Users and their refresh tokens. */
export class UserStore {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async create(username: string, passwordHash: string, isAdmin: boolean): Promise<User> {
    const row = await this.#db
      .insertInto('users')
      .values({ username, password_hash: passwordHash, is_admin: isAdmin ? 1 : 0, created_at: Date.now() })
      .returning(['id', 'username', 'is_admin', 'created_at'])
      .executeTakeFirstOrThrow();
    return toUser(row);
  }

  async findById(id: number): Promise<User | undefined> {
    const row = await this.#db.selectFrom('users').select(['id', 'username', 'is_admin', 'created_at']).where('id', '=', id).executeTakeFirst();
    return row && toUser(row);
  }

  /**
   * The users producers address by id, in the order given, or the ids no user has: the one
   * place a publish target's user ids become users.
   */
  async resolveUserTargets(ids: readonly number[]): Promise<{ users: User[] } | { unknown: number[] }> {
    const found = new Map<number, User>();
    for (let i = 0; i < ids.length; i += 500) {
      const rows = await this.#db.selectFrom('users').select(['id', 'username', 'is_admin', 'created_at']).where('id', 'in', ids.slice(i, i + 500)).execute();
      for (const row of rows) found.set(Number(row.id), toUser(row));
    }
    const unknown = ids.filter((id) => !found.has(id));
    return unknown.length > 0 ? { unknown } : { users: ids.map((id) => found.get(id)!) };
  }

  async findByUsername(username: string): Promise<UserWithHash | undefined> {
    const row = await this.#db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();
    return row && { ...toUser(row), password_hash: row.password_hash };
  }

  async list(): Promise<User[]> {
    const rows = await this.#db.selectFrom('users').select(['id', 'username', 'is_admin', 'created_at']).orderBy('id').execute();
    return rows.map(toUser);
  }

  async setAdmin(id: number, isAdmin: boolean): Promise<User | undefined> {
    await this.#db.updateTable('users').set({ is_admin: isAdmin ? 1 : 0 }).where('id', '=', id).execute();
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
