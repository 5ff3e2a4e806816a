import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

import { readEnvironmentInfo } from './environment';

const env = readEnvironmentInfo();

function cli(command: string, args: string[]): string {
  return execFileSync(command, args, { encoding: 'utf8', timeout: 20_000 }).trim();
}

describe('the real PostgreSQL and Redis', () => {
  it('exports DATABASE_URL and REDIS_URL to the test workers', () => {
    expect(process.env['DATABASE_URL']).toBe(env.databaseUrl);
    expect(process.env['REDIS_URL']).toBe(env.redisUrl);
  });

  it('answers a psql query on the capp database', () => {
    const url = process.env['DATABASE_URL'] ?? '';
    const table = `proof_${randomBytes(3).toString('hex')}`;
    const out = cli('psql', [
      '-X',
      '-At',
      '-v',
      'ON_ERROR_STOP=1',
      url,
      '-c',
      `CREATE TABLE ${table} (n int); INSERT INTO ${table} VALUES (41), (1); SELECT current_database() || ':' || sum(n) FROM ${table};`,
    ]);
    expect(out.split('\n').pop()).toBe(`${new URL(url).pathname.slice(1)}:42`);
  });

  it('answers PING, SET and GET through redis-cli -u', () => {
    const url = process.env['REDIS_URL'] ?? '';
    const key = `proof:${randomBytes(3).toString('hex')}`;
    expect(cli('redis-cli', ['-u', url, 'PING'])).toBe('PONG');
    expect(cli('redis-cli', ['-u', url, 'SET', key, 'hello'])).toBe('OK');
    expect(cli('redis-cli', ['-u', url, 'GET', key])).toBe('hello');
  });
});
