import { validateHealthScopeWrite } from './healthscope.schema';

const scope = (spec: Record<string, unknown>): unknown => ({ metadata: { name: 'shop' }, spec });

describe('validateHealthScopeWrite', () => {
  it('accepts members by name and by selector, with a probe', () => {
    expect(
      validateHealthScopeWrite(
        scope({
          cappRefs: ['frontend', 'api'],
          selector: { matchLabels: { app: 'shop' } },
          probe: { method: 'HEAD', path: '/healthz', port: 8080, timeoutSeconds: 2, periodSeconds: 5 },
          unknownIs: 'ignored',
        }),
      ),
    ).toEqual([]);
  });

  it('refuses a scope without members, naming the rule', () => {
    expect(validateHealthScopeWrite(scope({}))).toEqual([
      expect.objectContaining({ path: 'spec.cappRefs', rule: 'membersRequired' }),
    ]);
  });

  it.each([
    ['a method other than GET or HEAD', { method: 'POST' }, 'spec.probe.method', 'enum'],
    ['a path without a leading slash', { path: 'healthz' }, 'spec.probe.path', 'pattern'],
    [
      'a timeout longer than the period',
      { timeoutSeconds: 10, periodSeconds: 5 },
      'spec.probe.timeoutSeconds',
      'timeoutWithinPeriod',
    ],
    [
      'a success status that is not a code or a class',
      { successStatus: ['ok'] },
      'spec.probe.successStatus[0]',
      'pattern',
    ],
    ['a port out of range', { port: 70000 }, 'spec.probe.port', 'maximum'],
    [
      "a host (the probe only ever targets the Capp's own URL)",
      { host: 'evil.example.com' },
      'spec.probe.host',
      'unknownField',
    ],
  ])('refuses %s', (_what, probe, path, rule) => {
    expect(validateHealthScopeWrite(scope({ cappRefs: ['a'], probe }))).toEqual([
      expect.objectContaining({ path, rule }),
    ]);
  });

  it('refuses In without values in a selector', () => {
    expect(
      validateHealthScopeWrite(scope({ selector: { matchExpressions: [{ key: 'app', operator: 'In' }] } })),
    ).toEqual([
      expect.objectContaining({ path: 'spec.selector.matchExpressions[0].values', rule: 'valuesForInNotIn' }),
    ]);
  });
});
