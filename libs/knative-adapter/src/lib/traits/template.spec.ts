import { evaluateTemplate, TemplateError, templateProblem } from './template';

describe('trait templates (JSONata)', () => {
  it('read parameter and context, iterate a map into a list, and give plain JSON', async () => {
    const value = await evaluateTemplate(
      '{"env": [$each(parameter.env, function($v, $k) {{"name": $k, "value": $v}})], "ns": context.namespace}',
      { parameter: { env: { A: '1', B: '2' } }, context: { namespace: 'team-a' } },
    );
    expect(value).toEqual({
      env: [
        { name: 'A', value: '1' },
        { name: 'B', value: '2' },
      ],
      ns: 'team-a',
    });
  });

  it('name a syntax error with its position', () => {
    expect(templateProblem('{"a": ')).toMatch(/at character \d+/);
    expect(templateProblem('{"a": 1}')).toBeUndefined();
  });

  it('stop a template that recurses without end, in bounded time', async () => {
    const started = Date.now();
    await expect(evaluateTemplate('($f := function($n) { $f($n + 1) }; $f(0))', {})).rejects.toThrow(
      TemplateError,
    );
    await expect(evaluateTemplate('($f := function($n) { 1 + $f($n + 1) }; $f(0))', {})).rejects.toThrow(
      /nests deeper than|took longer than/,
    );
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('refuse functions that change from call to call ($now, $millis, $random)', async () => {
    await expect(evaluateTemplate('{"at": $now()}', {})).rejects.toThrow(
      '$now() is not allowed: templates must give the same result every time',
    );
    await expect(evaluateTemplate('$random()', {})).rejects.toThrow(TemplateError);
  });
});
