import { ConfigError, loadApiConfig } from './api-config';

const required = {
  DATABASE_URL: 'postgresql://u:p@127.0.0.1:5432/capp',
  REDIS_URL: 'redis://127.0.0.1:6379',
};

describe('API configuration', () => {
  it('has safe defaults: authentication on, 10 revisions, a rate limit, CORS off', () => {
    expect(loadApiConfig(required)).toMatchObject({
      port: 3000,
      authMode: 'kubernetes',
      revisionLimit: 10,
      rateLimitPerMinute: 600,
      corsOrigins: [],
      watchCluster: true,
      bodyLimit: '512kb',
    });
  });

  it('reports every problem at once, naming the variable and the rule', () => {
    let message = '';
    try {
      loadApiConfig({
        REDIS_URL: 'http://x',
        PORT: '70000',
        AUTH_MODE: 'off',
        REVISION_LIMIT: '0',
        BODY_LIMIT: 'big',
      });
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      message = (err as Error).message;
    }
    expect(message).toContain('DATABASE_URL is required');
    expect(message).toContain('REDIS_URL must be a redis: or rediss:// URL');
    expect(message).toContain('PORT must be an integer between 0 and 65535, got "70000"');
    expect(message).toContain('AUTH_MODE must be kubernetes or none, got "off"');
    expect(message).toContain('REVISION_LIMIT must be an integer between 1 and 1000, got "0"');
    expect(message).toContain('BODY_LIMIT must be a size');
  });

  it('reads the revision limit, CORS origins and dev mode', () => {
    const config = loadApiConfig({
      ...required,
      REVISION_LIMIT: '3',
      CORS_ORIGINS: 'https://a.example, https://b.example',
      AUTH_MODE: 'none',
    });
    expect(config).toMatchObject({
      revisionLimit: 3,
      corsOrigins: ['https://a.example', 'https://b.example'],
      authMode: 'none',
    });
  });
});
