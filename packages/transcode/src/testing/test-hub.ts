// A real Herald node for the tests that need one (HTTP plugin, `herald worker`): the only
// place where this package reaches into the server's sources, and only in tests.
export { openSocket, startHerald, until, type TestHerald } from '../../../server/src/testing/herald.js';
export { TEST_REDIS_URL, freshPostgresSchema, postgresReachable, redisReachable, requireService } from '../../../server/src/testing/services.js';
