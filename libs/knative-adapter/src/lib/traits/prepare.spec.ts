import { CappTrait } from '@capp/capp-model';
import Ajv2020 from 'ajv/dist/2020';

import { renderChildren } from '../render';
import { AUTOSCALE, DNS, makeCapp } from '../test-fixtures';
import { applyTraits, prepareTrait } from './traits';

// Counts JSONata compilations (a template's text is compiled once, then looked up).
jest.mock('jsonata', () => {
  const actual = jest.requireActual<(text: string) => unknown>('jsonata');
  return jest.fn((text: string) => actual(text));
});
const jsonataFactory = require('jsonata') as jest.Mock;

/** A trait of its own per test: the compiled caches are per process. */
function traitNamed(name: string): CappTrait {
  return {
    apiVersion: 'rcs.dana.io/v1alpha1',
    kind: 'CappTrait',
    metadata: { name, generation: 1 },
    spec: {
      parameters: {
        type: 'object',
        required: ['value'],
        properties: { value: { type: 'string', description: name }, other: { type: 'string', default: 'x' } },
      },
      patch: {
        template: `{"metadata": {"annotations": {"${name}": parameter.value & "-" & parameter.other}}}`,
      },
    },
  };
}

describe('prepareTrait', () => {
  afterEach(() => jest.restoreAllMocks());

  it('compiles the parameters schema and the templates, so that applying the trait compiles nothing', async () => {
    const trait = traitNamed('prepared-a');
    const compile = jest.spyOn(Ajv2020.prototype, 'compile');
    jsonataFactory.mockClear();

    expect(prepareTrait(trait)).toEqual([]);
    expect(compile).toHaveBeenCalledTimes(1);
    expect(jsonataFactory).toHaveBeenCalledTimes(1);

    compile.mockClear();
    jsonataFactory.mockClear();
    // As the operator reads it: the cached object itself, and later an equal copy (a relist).
    for (const seen of [trait, structuredClone(trait)]) {
      const capp = makeCapp({ traits: [{ type: 'prepared-a', properties: { value: 'v' } }] });
      const { children } = await applyTraits({
        capp,
        children: renderChildren(capp, { autoscale: AUTOSCALE, dns: DNS }),
        lookup: () => seen,
      });
      expect(children[0].metadata.annotations?.['prepared-a']).toBe('v-x');
    }
    expect(compile).not.toHaveBeenCalled();
    expect(jsonataFactory).not.toHaveBeenCalled();
  });

  it("returns a broken trait's problems, naming the field, and does not throw", () => {
    const broken = traitNamed('prepared-b');
    broken.spec.patch = { template: '{"metadata": ' };
    broken.spec.parameters = { type: 'object', properties: { n: { type: 'nonsense' } } };
    const paths = prepareTrait(broken).map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['spec.parameters', 'spec.patch.template']));
    expect(() => prepareTrait({ metadata: { name: 'x' } } as unknown as CappTrait)).not.toThrow();
  });
});
