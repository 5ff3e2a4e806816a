import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';

import { cappWriteSchema } from './capp.schema';
import { CappWriteDto } from './dto';
import { issuesFromValidationErrors } from './schema/class-validator';
import { validateNode } from './schema/validate';

const spec = { configurationSpec: { template: { spec: { containers: [{ image: 'nginx' }] } } } };

function dtoIssues(body: unknown): { path: string; rule: string }[] {
  const errors = validateSync(plainToInstance(CappWriteDto, body) as object, {
    whitelist: true,
    forbidNonWhitelisted: true,
  });
  return issuesFromValidationErrors(errors, cappWriteSchema).map(({ path, rule }) => ({ path, rule }));
}

describe('the REST API write body', () => {
  it('accepts a kubectl manifest and a body without apiVersion, kind or name', () => {
    for (const body of [
      {
        apiVersion: 'rcs.dana.io/v1alpha1',
        kind: 'Capp',
        metadata: { name: 'web', labels: { a: 'b' } },
        spec,
      },
      { metadata: {}, spec },
    ]) {
      expect(validateNode(cappWriteSchema, body, '')).toEqual([]);
      expect(dtoIssues(body)).toEqual([]);
    }
  });

  it('refuses server-owned fields such as status and metadata.uid, naming them', () => {
    const body = { metadata: { name: 'web', uid: 'x' }, spec, status: {} };
    const expected = [
      { path: 'metadata.uid', rule: 'unknownField' },
      { path: 'status', rule: 'unknownField' },
    ];
    const sort = (l: { path: string }[]): { path: string }[] =>
      [...l].sort((a, b) => a.path.localeCompare(b.path));
    expect(sort(validateNode(cappWriteSchema, body, '').map(({ path, rule }) => ({ path, rule })))).toEqual(
      expected,
    );
    expect(sort(dtoIssues(body))).toEqual(expected);
  });

  it('applies the name rule and the spec rules', () => {
    const body = { metadata: { name: 'Web_1' }, spec: { ...spec, minReplicas: 3, maxReplicas: 1 } };
    const rules = dtoIssues(body).map((i) => `${i.path}:${i.rule}`);
    expect(rules).toEqual(
      expect.arrayContaining(['metadata.name:name', 'spec.maxReplicas:maxReplicasAtLeastMinReplicas']),
    );
  });

  it('does not refuse a warning: TLS without a hostname', () => {
    const body = { metadata: { name: 'web' }, spec: { ...spec, routeSpec: { tlsEnabled: true } } };
    expect(dtoIssues(body)).toEqual([]);
  });
});
