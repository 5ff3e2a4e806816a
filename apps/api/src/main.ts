import 'reflect-metadata';

import { createApi } from './bootstrap';
import { ConfigError, loadApiConfig } from './config/api-config';
import { createLogger } from './infra/logging/logger';

async function main(): Promise<void> {
  let config;
  try {
    config = loadApiConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`capp-api: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  if (config.authMode === 'none') {
    logger.warn(
      '!!! AUTH_MODE=none: the API accepts every request WITHOUT authentication or authorization. ' +
        'Development only — never expose this process to anyone. !!!',
    );
  }
  const app = await createApi(config, logger);
  await app.listen(config.port, config.host);
  const address = app.getHttpServer().address() as { port: number } | null;
  logger.info(
    { port: address?.port, authMode: config.authMode, docs: `/docs`, watchCluster: config.watchCluster },
    'capp api listening',
  );
}

main().catch((err: unknown) => {
  console.error(`capp-api: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
