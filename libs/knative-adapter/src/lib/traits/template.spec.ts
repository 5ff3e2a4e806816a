import { evaluateTemplate, TemplateError, templateProblem } from './template';

// Counts evaluations of compiled templates (a result already known is not evaluated again).
let evaluations = 0;
jest.mock('jsonata', () => {
  const actual = jest.requireActual<(text: string) => { evaluate: (...a: unknown[]) => unknown }>('jsonata');
  return (text: string) => {
    const expr = actual(text);
    const evaluate = expr.evaluate.bind(expr);
    expr.evaluate = (...a: unknown[]) => {
      evaluations++;
      return evaluate(...a);
    };
    return expr;
  };
});

/** Evaluates and says whether the template was evaluated (false: its result was known). */
async function evaluated(text: string, input: Record<string, unknown>): Promise<[unknown, boolean]> {
  const before = evaluations;
  const value = await evaluateTemplate(text, input);
  return [value, evaluations > before];
}

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

  describe('remember results by the part of the input they read', () => {
    const context = (name: string, image = 'img:1'): Record<string, unknown> => ({
      name,
      namespace: 'team-a',
      image,
      labels: { tier: 'web' },
    });

    it('evaluate a template reading parameters only once for every Capp', async () => {
      const text = '{"metadata": {"labels": {"memo-1": parameter.group}}}';
      const input = (name: string, group = 'g1'): Record<string, unknown> => ({
        parameter: { group },
        context: context(name),
      });
      expect(await evaluated(text, input('a'))).toEqual([{ metadata: { labels: { 'memo-1': 'g1' } } }, true]);
      expect(await evaluated(text, input('b'))).toEqual([
        { metadata: { labels: { 'memo-1': 'g1' } } },
        false,
      ]);
      expect(await evaluated(text, input('b', 'g2'))).toEqual([
        { metadata: { labels: { 'memo-1': 'g2' } } },
        true,
      ]);
    });

    it('evaluate again when a context field it reads changes, not when another does', async () => {
      const text = '{"memo-2": context.name & "/" & context.labels.tier}';
      expect(await evaluated(text, { context: context('a') })).toEqual([{ 'memo-2': 'a/web' }, true]);
      expect(await evaluated(text, { context: context('a', 'img:2') })).toEqual([
        { 'memo-2': 'a/web' },
        false,
      ]);
      expect(await evaluated(text, { context: context('b') })).toEqual([{ 'memo-2': 'b/web' }, true]);
      const relabelled = { context: { ...context('b'), labels: { tier: 'db' } } };
      expect(await evaluated(text, relabelled)).toEqual([{ 'memo-2': 'b/db' }, true]);
    });

    it.each([
      ['the input itself', '{"memo-3": $.context.name}'],
      ['the root', '{"memo-4": $$.context.name}'],
      ['a lookup by a computed key', '{"memo-5": $lookup(context, "na" & "me")}'],
      ['a wildcard', '{"memo-6": context.*[0]}'],
      ['descendants', '{"memo-7": **.name}'],
      ['$eval', '{"memo-8": $eval("context.name")}'],
      ['a variable bound to the input field', '{"memo-9": $context.name}'],
    ])('read what a template reaches through %s', async (_, text) => {
      const key = Object.keys(JSON.parse(text.replace(/:.*$/, ': 0}')) as object)[0];
      const [a] = await evaluated(text, { context: context('a') });
      const [b] = await evaluated(text, { context: context('b') });
      expect(a).toEqual({ [key]: 'a' });
      expect(b).toEqual({ [key]: 'b' });
    });

    it('give each caller its own copy, and remember no failure', async () => {
      const text = '{"memo-10": {"list": [parameter.x]}}';
      const first = (await evaluateTemplate(text, { parameter: { x: 1 } })) as {
        'memo-10': { list: number[] };
      };
      first['memo-10'].list.push(2);
      expect(await evaluated(text, { parameter: { x: 1 } })).toEqual([{ 'memo-10': { list: [1] } }, false]);
      const failing = '$number(parameter.x)';
      await expect(evaluateTemplate(failing, { parameter: { x: 'no' } })).rejects.toThrow(TemplateError);
      const before = evaluations;
      await expect(evaluateTemplate(failing, { parameter: { x: 'no' } })).rejects.toThrow(TemplateError);
      expect(evaluations).toBe(before + 1);
    });
  });
});
