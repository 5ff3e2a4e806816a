import { cappWarnings, validateCappWrite } from '@capp/capp-model';

import { API_EXAMPLES } from './openapi';

/** The OpenAPI document's examples are what a user copies first: each must be accepted as is. */
describe('the documented request examples', () => {
  const capps = [...Object.entries(API_EXAMPLES.create), ...Object.entries(API_EXAMPLES.replace)];

  it.each(capps)('%s is a valid Capp write, without warnings', (_name, example) => {
    expect(validateCappWrite(example.value)).toEqual([]);
    expect(cappWarnings(example.value)).toEqual([]);
  });

  it('states and rollbacks name a state the API knows and a positive revision', () => {
    for (const { value } of Object.values(API_EXAMPLES.state))
      expect(['enabled', 'disabled']).toContain(value.state);
    for (const { value } of Object.values(API_EXAMPLES.rollback))
      expect(value.revision).toBeGreaterThanOrEqual(1);
  });
});
