import { Prisma, PrismaClient } from '@capp/db';
import { PrismaPg } from '@prisma/adapter-pg';
import { Pool } from 'pg';

/**
 * The generated Prisma client on the pg driver adapter (no engine binary; ADR 0003), and the adapter's
 * connection pool itself, which the hot read path queries directly (ADR 0012).
 */
export class PrismaService extends PrismaClient {
  readonly pool: Pool;

  constructor(databaseUrl: string) {
    const pool = new Pool({
      connectionString: databaseUrl,
      // A refused connection fails at once (→ 503); this bounds the wait for a pool slot or a
      // server that does not answer, without turning a busy pool into false 503s.
      connectionTimeoutMillis: 10_000,
      max: 20,
    });
    // An idle connection the server dropped (a restart) is discarded by the pool; without a listener
    // its error event would end the process.
    pool.on('error', () => undefined);
    super({ adapter: new PrismaPg(pool) });
    this.pool = pool;
  }

  /** Closes Prisma's side and the pool (which Prisma does not own). */
  async close(): Promise<void> {
    await this.$disconnect();
    await this.pool.end();
  }
}

export { Prisma };
