export { hashPassword, verifyPassword, DUMMY_HASH_PROMISE } from './passwords.js';
export { TokenService, TokenError, EXPIRY_LEEWAY_SECONDS, loadOrCreateSecret, sessionDeadlineMs, type AccessClaims, type VerifyFailure } from './tokens.js';
export { AuthService, type LoginResult } from './service.js';
