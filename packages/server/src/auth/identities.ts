import { createHash } from 'node:crypto';
import type { User, UserStore } from '../store/index.js';
import { canonicalSubject, LOCAL_ID_PREFIX } from './claims.js';

/** A public user id as a caller may write it: `"123"`, `123`, `"f47ac10b-…"`, `"herald:1"`. */
export type PublicId = string | number;

export interface Resolved {
  /** Internal users by the public id as the caller wrote it (numbers as their decimal text). */
  users: Map<string, User>;
  /** Public ids that name no user (and were not provisioned). */
  unknown: string[];
  /** Public ids that cannot be a user id at all (e.g. `"2.0"`, `"herald:x"`). */
  invalid: string[];
}

/**
 * The one mapping between public user ids (the wire, every API) and internal users (whose
 * integer id keys streams, inbox rows and foreign keys). The namespace rule:
 *
 * - without platform tokens, a public id is the decimal id of a Herald account, as always;
 * - with platform tokens, a bare id (`"123"`, a UUID) is always a platform subject, and
 *   Herald's own accounts are written `herald:<n>`. Platform subjects may not start with
 *   `herald:`, so the two sets never meet: platform subject `"1"` is never account 1.
 */
export class Identities {
  readonly #users: UserStore;
  /** Whether platform tokens are configured (JWT_SECRET_SHARED, JWT_PUBLIC_KEY or JWT_JWKS_URL). */
  readonly platform: boolean;

  constructor(users: UserStore, platform: boolean) {
    this.#users = users;
    this.platform = platform;
  }

  /** The public id of an internal user. */
  publicId(user: Pick<User, 'id' | 'source' | 'subject'>): string {
    if (user.source === 'platform' && user.subject !== null) return user.subject;
    return this.platform ? `${LOCAL_ID_PREFIX}${user.id}` : String(user.id);
  }

  /**
   * The id as the HTTP API and the wire write it: the public id, an opaque string (`"1"`,
   * `"herald:1"`, a platform's `"f47ac10b-…"`). Producers may still write integers: `123`
   * and `"123"` name the same user.
   */
  wireId(user: Pick<User, 'id' | 'source' | 'subject'>): string {
    return this.publicId(user);
  }

  /** What a public id names: a Herald account by internal id, a platform subject, or nothing valid. */
  parse(id: PublicId): { local: number } | { subject: string } | undefined {
    const text = String(id);
    if (text.startsWith(LOCAL_ID_PREFIX) || !this.platform) {
      const digits = text.startsWith(LOCAL_ID_PREFIX) ? text.slice(LOCAL_ID_PREFIX.length) : text;
      return /^[1-9]\d{0,15}$/.test(digits) && Number.isSafeInteger(Number(digits)) ? { local: Number(digits) } : undefined;
    }
    const subject = canonicalSubject(id);
    return subject === undefined ? undefined : { subject };
  }

  /** The platform user of a subject, provisioned on first use. */
  provision(subject: string): Promise<User> {
    return this.#users.provision(subject, platformUsername(subject));
  }

  /**
   * Turns public ids into internal users. With `provision` (and platform tokens configured),
   * unseen platform ids are created, so a producer can publish to a user before their first
   * connection; otherwise they are returned in `unknown`.
   */
  async resolvePublicIds(ids: readonly PublicId[], options: { provision?: boolean } = {}): Promise<Resolved> {
    const result: Resolved = { users: new Map(), unknown: [], invalid: [] };
    const locals = new Map<string, number>();
    const subjects = new Map<string, string>();
    for (const id of new Set(ids.map(String))) {
      const parsed = this.parse(id);
      if (!parsed) result.invalid.push(id);
      else if ('local' in parsed) locals.set(id, parsed.local);
      else subjects.set(id, parsed.subject);
    }
    const [accounts, platform] = await Promise.all([
      locals.size > 0 ? this.#users.findByIds([...locals.values()]) : new Map<number, User>(),
      subjects.size > 0 ? this.#users.findBySubjects([...subjects.values()]) : new Map<string, User>(),
    ]);
    for (const [id, local] of locals) {
      const user = accounts.get(local);
      if (user?.source === 'herald') result.users.set(id, user);
      else result.unknown.push(id);
    }
    for (const [id, subject] of subjects) {
      const user = platform.get(subject) ?? (options.provision ? await this.provision(subject) : undefined);
      if (user) result.users.set(id, user);
      else result.unknown.push(id);
    }
    return result;
  }

  /** One public id to its user, or undefined (never provisions). */
  async resolve(id: PublicId): Promise<User | undefined> {
    const { users } = await this.resolvePublicIds([id]);
    return users.get(String(id));
  }
}

/** `platform:<subject>`, or a digest when that is too long: never a valid Herald username (they have no ':'). */
function platformUsername(subject: string): string {
  const name = `platform:${subject}`;
  return name.length <= 64 ? name : `platform:${createHash('sha256').update(subject).digest('hex').slice(0, 48)}`;
}
