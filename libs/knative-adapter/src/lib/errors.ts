/**
 * The platform configuration (a ConfigMap) is missing or wrong. Retrying does not help until the
 * ConfigMap changes, so callers treat it as permanent (and the operator re-renders on a ConfigMap event).
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';

  constructor(
    message: string,
    /** The ConfigMap at fault. */
    readonly configMap: string,
    /** The key at fault, when one key is. */
    readonly key?: string,
  ) {
    super(message);
  }
}

/**
 * The Capp cannot be turned into children (a field the schema should have caught, or one that only
 * fails together with the cluster's configuration, such as a hostname that is the DNS zone itself).
 * Permanent until the Capp changes.
 */
export class RenderError extends Error {
  override readonly name = 'RenderError';

  constructor(
    message: string,
    /** The Capp field at fault, as a dotted path (`spec.routeSpec.hostname`). */
    readonly field: string,
  ) {
    super(message);
  }
}
