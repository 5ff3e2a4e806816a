import { Prisma, PrismaClient } from '@capp/db';
import { PrismaPg } from '@prisma/adapter-pg';

/** The generated Prisma client on the pg driver adapter (no engine binary; ADR 0003). */
export class PrismaService extends PrismaClient {
  constructor(databaseUrl: string) {
    super({
      adapter: new PrismaPg({
        connectionString: databaseUrl,
        // A refused connection fails at once (→ 503); this bounds the wait for a pool slot or a
        // server that does not answer, without turning a busy pool into false 503s.
        connectionTimeoutMillis: 10_000,
        max: 20,
      }),
    });
  }
}

export { Prisma };
