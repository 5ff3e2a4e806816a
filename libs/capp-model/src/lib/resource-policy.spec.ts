import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';

import { cappSchema } from './capp.schema';
import { platformCrds } from './crd';
import { CappDto } from './dto';
import { issuesFromValidationErrors } from './schema/class-validator';
import { validateCapp } from './validate-capp';

const capp = (resourcePolicy: unknown): Record<string, unknown> => ({
  apiVersion: 'rcs.dana.io/v1alpha1',
  kind: 'Capp',
  metadata: { name: 'web', namespace: 'team-a' },
  spec: {
    configurationSpec: { template: { spec: { containers: [{ image: 'ghcr.io/acme/web:1' }] } } },
    resourcePolicy,
  },
});

const viaClassValidator = (obj: unknown) =>
  issuesFromValidationErrors(
    validateSync(plainToInstance(CappDto, obj) as object, { whitelist: true, forbidNonWhitelisted: true }),
    cappSchema,
  );

describe('spec.resourcePolicy, in the one schema', () => {
  const full = {
    garbageCollect: {
      rules: [
        { selector: { kinds: ['Certificate'] }, strategy: 'onCappDelete' },
        { selector: { kinds: ['NfsPvc'], names: ['data'] }, strategy: 'never' },
      ],
    },
    applyOnce: {
      enabled: true,
      rules: [{ selector: { kinds: ['Service'] }, paths: ['spec.template.spec.containers[*].resources'] }],
    },
    stateKeep: false,
    takeOver: 'adopt',
  };

  it('accepts every field (validateCapp and the API classes alike)', () => {
    expect(validateCapp(capp(full))).toEqual([]);
    expect(viaClassValidator(capp(full))).toEqual([]);
  });

  it.each([
    [{ takeOver: 'sometimes' }, 'spec.resourcePolicy.takeOver', 'enum'],
    [
      { garbageCollect: { rules: [{ selector: {}, strategy: 'later' }] } },
      'spec.resourcePolicy.garbageCollect.rules[0].strategy',
      'enum',
    ],
    [
      { garbageCollect: { rules: [{ selector: { kinds: ['Pod'] }, strategy: 'never' }] } },
      'spec.resourcePolicy.garbageCollect.rules[0].selector.kinds[0]',
      'enum',
    ],
    [
      { garbageCollect: { rules: [{ strategy: 'never' }] } },
      'spec.resourcePolicy.garbageCollect.rules[0].selector',
      'required',
    ],
    [
      { applyOnce: { rules: [{ selector: {}, paths: ['spec..x'] }] } },
      'spec.resourcePolicy.applyOnce.rules[0].paths[0]',
      'pattern',
    ],
    [
      { applyOnce: { rules: [{ selector: {}, paths: [] }] } },
      'spec.resourcePolicy.applyOnce.rules[0].paths',
      'minItems',
    ],
    [{ stateKeep: 'no' }, 'spec.resourcePolicy.stateKeep', 'type'],
  ])('refuses %j naming the field and the rule', (policy, path, rule) => {
    expect(validateCapp(capp(policy))).toEqual([expect.objectContaining({ path, rule })]);
    expect(viaClassValidator(capp(policy))).toEqual([expect.objectContaining({ path })]);
  });

  it('is in the CRD, so kubectl users are held to it too', () => {
    const crd = platformCrds().find(
      (c) => (c.crd as { metadata: { name: string } }).metadata.name === 'capps.rcs.dana.io',
    )?.crd as unknown as {
      spec: {
        versions: {
          schema: {
            openAPIV3Schema: {
              properties: { spec: { properties: Record<string, { properties: Record<string, unknown> }> } };
            };
          };
        }[];
      };
    };
    const policy = crd.spec.versions[0]?.schema.openAPIV3Schema.properties.spec.properties['resourcePolicy'];
    expect(Object.keys(policy?.properties ?? {}).sort()).toEqual([
      'applyOnce',
      'garbageCollect',
      'stateKeep',
      'takeOver',
    ]);
    expect(policy?.properties['takeOver']).toMatchObject({ enum: ['refuse', 'adopt'] });
  });
});
