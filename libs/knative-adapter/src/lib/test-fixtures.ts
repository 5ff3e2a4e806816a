/** Builders shared by this library's tests (not exported from the package). */
import { Capp, CappSpec, ObjectMeta } from '@capp/capp-model';

import { AUTOSCALE_FALLBACKS, AutoscaleDefaults, DnsConfig, parseDnsConfig } from './config';

export const AUTOSCALE: AutoscaleDefaults = { ...AUTOSCALE_FALLBACKS };

export const DNS: DnsConfig = parseDnsConfig({
  data: { zone: 'apps.example.com.', cname: 'ingress.example.com.' },
}) as DnsConfig;

export const UID = '6f1c1b9e-0000-4000-8000-000000000001';

/** A stored Capp `web` in namespace `team-a` (with a uid), with `spec` merged over a one-container workload. */
export function makeCapp(spec: Partial<CappSpec> = {}, metadata: Partial<ObjectMeta> = {}): Capp {
  return {
    apiVersion: 'rcs.dana.io/v1alpha1',
    kind: 'Capp',
    metadata: { name: 'web', namespace: 'team-a', uid: UID, generation: 1, ...metadata },
    spec: {
      configurationSpec: {
        template: { spec: { containers: [{ name: 'web', image: 'ghcr.io/acme/web:1' }] } },
      },
      ...spec,
    },
  };
}
