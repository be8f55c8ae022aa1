export { hashPassword, verifyPassword, DUMMY_HASH_PROMISE } from './passwords.js';
export { TokenService, TokenError, EXPIRY_LEEWAY_SECONDS, loadOrCreateSecret, ownSecretFrom, sessionDeadlineMs, type AccessClaims, type VerifyFailure } from './tokens.js';
export { Identities, type PublicId, type Resolved } from './identities.js';
export { PlatformVerifier, type PlatformConfig, type PlatformIdentity } from './platform.js';
export { AuthService, type LoginResult, type Principal } from './service.js';
