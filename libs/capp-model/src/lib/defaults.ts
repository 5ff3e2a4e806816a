import { Capp, CappSpec } from './capp.types';
import { DEFAULT_SCALE_METRIC, DEFAULT_STATE } from './constants';

/** Returns the spec with the same defaults the CRD schema applies (`scaleMetric`, `state`). */
export function withSpecDefaults(spec: CappSpec): CappSpec {
  return {
    ...spec,
    scaleMetric: spec.scaleMetric ?? DEFAULT_SCALE_METRIC,
    state: spec.state ?? DEFAULT_STATE,
  };
}

export function withDefaults(capp: Capp): Capp {
  return { ...capp, spec: withSpecDefaults(capp.spec) };
}
