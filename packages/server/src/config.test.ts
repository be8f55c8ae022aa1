import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseDuration } from './config.js';

describe('configuration', () => {
  it('has documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ port: 8000, host: '0.0.0.0', databaseUrl: undefined, redisUrl: undefined, heartbeatIntervalMs: 30_000, maxPayloadBytes: 4096 });
    expect(config.dataDir).toMatch(/data$/);
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ REDIS_URL: 'not a url' }, 'REDIS_URL'],
    [{ JWT_SECRET: 'short' }, 'JWT_SECRET'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ BACKEND_CORS_ORIGINS: 'not-an-origin' }, 'BACKEND_CORS_ORIGINS'],
    [{ ACCESS_TOKEN_TTL: '15 minutes' }, 'ACCESS_TOKEN_TTL'],
    [{ TRUST_PROXY: 'maybe' }, 'TRUST_PROXY'],
  ])('names the bad variable in %o', (env, variable) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(new RegExp(`^${variable}:`));
  });

  it('reads CORS origins as a list or the FastAPI JSON form', () => {
    expect(loadConfig({ BACKEND_CORS_ORIGINS: 'http://localhost:3001,http://admin.example.com' }).corsOrigins).toEqual(['http://localhost:3001', 'http://admin.example.com']);
    expect(loadConfig({ BACKEND_CORS_ORIGINS: '["http://a.example/"]' }).corsOrigins).toEqual(['http://a.example']);
  });

  it('reads the HTTP limits, with no per-address cap behind a trusted proxy unless set', () => {
    expect(loadConfig({}).http).toEqual({ headersTimeoutMs: 10_000, requestTimeoutMs: 300_000, idleTimeoutMs: 30_000, keepAliveTimeoutMs: 72_000, maxConnectionsPerIp: 256 });
    expect(loadConfig({ TRUST_PROXY: 'true' }).http.maxConnectionsPerIp).toBe(0);
    expect(loadConfig({ TRUST_PROXY: 'true', HTTP_MAX_CONNECTIONS_PER_IP: '50' }).http.maxConnectionsPerIp).toBe(50);
    expect(() => loadConfig({ HTTP_HEADERS_TIMEOUT_MS: '5000', HTTP_REQUEST_TIMEOUT_MS: '1000' })).toThrow(/HTTP_HEADERS_TIMEOUT_MS: must not exceed/);
  });

  it('parses durations', () => {
    expect(parseDuration('15m')).toBe(900);
    expect(parseDuration('2h')).toBe(7200);
    expect(parseDuration('45')).toBe(45);
    expect(() => parseDuration('0s')).toThrow();
  });
});
