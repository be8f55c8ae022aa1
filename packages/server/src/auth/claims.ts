import type { JWTPayload } from 'jose';

/**
 * Claim mapping for platform tokens: where the user id, the admin flag and the display name
 * live in the host platform's JWT (JWT_USER_ID_CLAIM, JWT_ADMIN_CLAIM, JWT_NAME_CLAIM).
 */
export interface ClaimMapping {
  userIdClaim: string;
  /** `is_admin` (the claim must be `true`) or `roles=admin` (the claim equals, contains or lists `admin`). */
  adminClaim: string;
  nameClaim: string;
}

/** Herald's own accounts are addressed as `herald:<n>` when platform tokens are enabled. */
export const LOCAL_ID_PREFIX = 'herald:';
const MAX_SUBJECT_LENGTH = 128;
const PRINTABLE = /^[\x21-\x7e]+$/;

/**
 * A claim by name: the whole name first (so `https://example.com/roles` works), then as a
 * dotted path (`realm_access.roles`).
 */
export function claimAt(payload: Record<string, unknown>, path: string): unknown {
  if (path in payload) return payload[path];
  let value: unknown = payload;
  for (const part of path.split('.')) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/**
 * The canonical text of a platform user id, or undefined when it is not one. A number-looking
 * id must be written as a positive decimal integer without sign, leading zeros, spaces or
 * exponent (`" 2"`, `"2.0"`, `"0x2"`, `"02"` are refused, never mapped to user 2); any other id
 * is 1-128 printable ASCII characters and must not use Herald's own `herald:` namespace.
 */
export function canonicalSubject(value: unknown): string | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value > 0 ? String(value) : undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_SUBJECT_LENGTH || !PRINTABLE.test(value)) return undefined;
  if (value.toLowerCase().startsWith(LOCAL_ID_PREFIX)) return undefined;
  if (Number.isFinite(Number(value))) {
    return /^[1-9]\d{0,15}$/.test(value) && Number.isSafeInteger(Number(value)) ? value : undefined;
  }
  return value;
}

/** Whether the token grants admin rights under JWT_ADMIN_CLAIM. */
export function isAdminBy(payload: Record<string, unknown>, adminClaim: string): boolean {
  const eq = adminClaim.lastIndexOf('=');
  if (eq === -1) return claimAt(payload, adminClaim) === true;
  const value = claimAt(payload, adminClaim.slice(0, eq));
  const wanted = adminClaim.slice(eq + 1);
  if (Array.isArray(value)) return value.includes(wanted);
  if (typeof value === 'string') return value === wanted || value.split(/\s+/).includes(wanted);
  return false;
}

/** The platform identity a verified payload carries, or undefined when its user id is not canonical. */
export function identityFrom(payload: JWTPayload, mapping: ClaimMapping): { subject: string; isAdmin: boolean; name: string } | undefined {
  const subject = canonicalSubject(claimAt(payload, mapping.userIdClaim));
  if (subject === undefined) return undefined;
  const rawName = claimAt(payload, mapping.nameClaim);
  const name = typeof rawName === 'string' && rawName.trim() !== '' ? rawName.trim().slice(0, 128) : subject;
  return { subject, isAdmin: isAdminBy(payload, mapping.adminClaim), name };
}
