import { CAPP_NAME_MAX_LENGTH, CAPP_NAME_PATTERN, DNS_LABEL_PATTERN } from '@capp/capp-model';
import { type PipeTransform } from '@nestjs/common';
import { ApiParam } from '@nestjs/swagger';

import { InvalidInputError } from './errors';

/** The largest revision number PostgreSQL's `integer` (and Kubernetes' int32) holds. */
export const MAX_REVISION = 2_147_483_647;

interface StringRule {
  pattern: { regex: string; message: string };
  maxLength: number;
}

const RULES: Record<'ns' | 'name', StringRule> = {
  // Namespaces are DNS-1123 labels; a Capp's name becomes its Knative Service's (a DNS-1035 label).
  ns: { pattern: DNS_LABEL_PATTERN, maxLength: 63 },
  name: { pattern: CAPP_NAME_PATTERN, maxLength: CAPP_NAME_MAX_LENGTH },
};

function invalid(param: string, rule: string, message: string): InvalidInputError {
  return new InvalidInputError(`path parameter ${param} ${message}`, [{ path: param, rule, message }]);
}

/**
 * Path parameters judged as the cluster would, before anything is read or stored: a namespace no
 * kubectl user could create is refused with 400 naming the parameter and the rule.
 */
export class PathParamPipe implements PipeTransform<string, string> {
  constructor(private readonly param: 'ns' | 'name') {}

  transform(value: string): string {
    const { pattern, maxLength } = RULES[this.param];
    if (typeof value !== 'string' || value.length === 0)
      throw invalid(this.param, 'required', 'must not be empty');
    if (value.length > maxLength)
      throw invalid(this.param, 'maxLength', `must be at most ${maxLength} characters`);
    if (!new RegExp(pattern.regex).test(value)) throw invalid(this.param, 'pattern', pattern.message);
    return value;
  }
}

/** A revision number: a positive 32-bit integer written in decimal digits. */
export class RevisionParamPipe implements PipeTransform<string, number> {
  transform(value: string): number {
    const n = /^[0-9]{1,10}$/.test(value) ? Number(value) : NaN;
    if (!Number.isInteger(n) || n < 1 || n > MAX_REVISION)
      throw invalid('revision', 'type', `must be an integer from 1 to ${MAX_REVISION}`);
    return n;
  }
}

export const NS_PIPE = new PathParamPipe('ns');
export const NAME_PIPE = new PathParamPipe('name');
export const REVISION_PIPE = new RevisionParamPipe();

/** The OpenAPI side of the same rules. */
export const NS_PARAM = ApiParam({
  name: 'ns',
  description: 'Namespace (a DNS-1123 label)',
  example: 'default',
  schema: { type: 'string', pattern: RULES.ns.pattern.regex, maxLength: RULES.ns.maxLength, minLength: 1 },
});
export const NAME_PARAM = ApiParam({
  name: 'name',
  description: 'Capp name (a DNS-1035 label: it becomes the Knative Service name)',
  example: 'web',
  schema: {
    type: 'string',
    pattern: RULES.name.pattern.regex,
    maxLength: RULES.name.maxLength,
    minLength: 1,
  },
});
export const REVISION_PARAM = ApiParam({
  name: 'revision',
  description: 'Revision number',
  example: 1,
  schema: { type: 'integer', minimum: 1, maximum: MAX_REVISION },
});
