import { cappLogger, createLogger } from './logger';

/** A destination that keeps every line pino writes, parsed. */
function memory(): { lines: Record<string, unknown>[]; write(s: string): void } {
  const lines: Record<string, unknown>[] = [];
  return {
    lines,
    write(s: string): void {
      for (const line of s.split('\n').filter(Boolean))
        lines.push(JSON.parse(line) as Record<string, unknown>);
    },
  };
}

describe('createLogger', () => {
  it('writes one JSON object per line with the component, an ISO time and the level as a label', () => {
    const out = memory();
    const log = createLogger('info', out);
    log.info({ key: 'default/web' }, 'reconciled');
    log.warn('slow');

    expect(out.lines).toHaveLength(2);
    expect(out.lines[0]).toMatchObject({
      level: 'info',
      component: 'capp-operator',
      key: 'default/web',
      msg: 'reconciled',
    });
    expect(out.lines[1]).toMatchObject({ level: 'warn', msg: 'slow' });
    expect(out.lines[0]['time']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('drops lines below the configured level', () => {
    const out = memory();
    const log = createLogger('warn', out);
    log.info('hidden');
    log.debug('hidden too');
    log.error('shown');
    expect(out.lines.map((l) => l['msg'])).toEqual(['shown']);
  });

  it('redacts tokens, passwords and authorization headers at the top level and one level down', () => {
    const out = memory();
    const log = createLogger('info', out);
    log.info(
      {
        authorization: 'Bearer top',
        token: 'top-token',
        password: 'top-password',
        user: { name: 'alice', token: 'nested-token', password: 'nested-password' },
        headers: { authorization: 'Bearer nested', accept: 'application/json' },
      },
      'request',
    );

    const line = out.lines[0];
    const text = JSON.stringify(line);
    for (const secret of [
      'Bearer top',
      'top-token',
      'top-password',
      'nested-token',
      'nested-password',
      'Bearer nested',
    ]) {
      expect(text).not.toContain(secret);
    }
    expect(line).toMatchObject({
      authorization: '[REDACTED]',
      user: { name: 'alice', token: '[REDACTED]', password: '[REDACTED]' },
      headers: { authorization: '[REDACTED]', accept: 'application/json' },
    });
  });

  it('rejects a level pino does not know', () => {
    expect(() => createLogger('verbose', memory())).toThrow(/verbose/);
  });
});

describe('cappLogger', () => {
  it('adds the namespace, name and generation of the Capp to every line', () => {
    const out = memory();
    const log = cappLogger(createLogger('info', out), {
      metadata: { namespace: 'team-a', name: 'web', generation: 3 },
    });
    log.info('applied');
    log.error('failed');

    expect(out.lines).toHaveLength(2);
    for (const line of out.lines) {
      expect(line).toMatchObject({
        component: 'capp-operator',
        namespace: 'team-a',
        name: 'web',
        generation: 3,
      });
    }
  });

  it('leaves out fields the object does not have', () => {
    const out = memory();
    cappLogger(createLogger('info', out), { metadata: { name: 'cluster-thing' } }).info('x');
    expect(out.lines[0]).toMatchObject({ name: 'cluster-thing' });
    expect(out.lines[0]).not.toHaveProperty('namespace');
    expect(out.lines[0]).not.toHaveProperty('generation');
  });
});
