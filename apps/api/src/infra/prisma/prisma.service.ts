import { Prisma, PrismaClient } from '@capp/db';
import { PrismaPg } from '@prisma/adapter-pg';

/** The generated Prisma client on the pg driver adapter (no engine binary; ADR 0003). */
export class PrismaService extends PrismaClient {
  constructor(databaseUrl: string) {
    super({
      adapter: new PrismaPg({
        connectionString: databaseUrl,
        // Fail fast when PostgreSQL is down (→ 503) instead of queueing requests behind a dead pool.
        connectionTimeoutMillis: 3000,
        max: 10,
      }),
    });
  }
}

export { Prisma };
