import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { publishUserRevoked } from './auth/revalidation.js';
import { ConfigError, type Config } from './config.js';
import { createBroker, createCore } from './core.js';

export const PASSWD_USAGE = `Usage: herald user passwd <username> [--password <pw>]

Sets the password of a Herald account (read from stdin when --password is absent), revokes
every refresh token of the user and refuses their access tokens issued until now. With
REDIS_URL the user's open sockets on every node close at once with 4001 "password changed";
without it, a running server's sockets of that user stay open until their token expires
(PATCH /api/v1/users/{id} with {"password": …} closes them at once).`;

async function readLine(): Promise<string> {
  const rl = createInterface({ input: process.stdin, terminal: false });
  try {
    for await (const line of rl) return line;
    return '';
  } finally {
    rl.close();
  }
}

/** `herald user passwd <username>`; returns the exit code. */
export async function userPasswd(config: Config, args: string[]): Promise<number> {
  const { positionals, values } = parseArgs({ args, allowPositionals: true, options: { password: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write(PASSWD_USAGE + '\n');
    return 0;
  }
  const username = positionals[0];
  if (!username) throw new ConfigError('username', 'is required (herald user passwd <username>)');
  const password = values.password ?? (await readLine());
  const log = pino({ level: config.logLevel }, pino.destination(2));
  const broker = await createBroker(config);
  const core = await createCore(config, { log, broker });
  try {
    const user = await core.store.users.findByUsername(username);
    if (!user) throw new ConfigError('username', `no Herald account "${username}"`);
    await core.auth.changePassword(user.id, password);
    await publishUserRevoked(broker, user.id, 'password changed');
    process.stdout.write(`password of ${username} changed; their sessions are ended${config.redisUrl ? '' : ' (open sockets of a running server close at token expiry: no REDIS_URL)'}\n`);
    return 0;
  } finally {
    await core.close();
    await broker.close();
  }
}
