export { hashPassword, verifyPassword, DUMMY_HASH_PROMISE } from './passwords.js';
export { TokenService, TokenError, loadOrCreateSecret, type AccessClaims, type VerifyFailure } from './tokens.js';
export { AuthService, type LoginResult } from './service.js';
