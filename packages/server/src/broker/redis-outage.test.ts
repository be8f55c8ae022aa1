import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandExists, freePort, RedisServer, requireService, TcpProxy, until } from '@herald/testing';
import { RedisBroker } from './redis.js';

const ready = requireService('redis-server', commandExists('redis-server') && commandExists('redis-cli'), 'redis-server/redis-cli not on PATH (Debian: redis-server)');

describe.runIf(ready)('Redis broker during an outage', () => {
  let redis: RedisServer;
  let proxy: TcpProxy;
  let broker: RedisBroker;
  let recovered = 0;

  beforeAll(async () => {
    redis = await new RedisServer(await freePort()).start();
    proxy = await new TcpProxy('127.0.0.1', redis.port).start();
    broker = await RedisBroker.connect(`redis://127.0.0.1:${proxy.port}`, 'outage:');
    broker.onRecovered(() => recovered++);
  });
  afterAll(async () => {
    await broker?.close();
    await proxy?.stop();
    await redis?.stop('SIGKILL');
  });

  // Regression: a publish in flight when Redis went silent waited for the whole outage (ioredis
  // resends it after the reconnect), holding POST /api/v1/notifications long after the
  // notification was durable (found by the cluster fault test, Redis restart).
  it('fails a publish within seconds when Redis stops answering, then catches up once it answers again', async () => {
    await broker.publish('herald:broadcast', 'before');
    proxy.freeze();
    const started = Date.now();
    await expect(broker.publish('herald:broadcast', 'during')).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(5000);
    expect(recovered).toBe(0);
    proxy.thaw();
    await until(() => recovered > 0, 5000, 'the recovery listeners');
  });

  it('fails at once while the connection is down, and recovers after it is back', async () => {
    recovered = 0;
    await proxy.cutOff();
    await until(async () => (await broker.health()).ok === false, 5000, 'an unhealthy broker');
    const started = Date.now();
    await expect(broker.publish('herald:broadcast', 'down')).rejects.toThrow(/redis unavailable/);
    expect(Date.now() - started).toBeLessThan(500);
    await proxy.restore();
    await until(() => recovered > 0, 8000, 'the recovery listeners');
    await until(async () => (await broker.health()).ok, 5000, 'a healthy broker');
  });
});
