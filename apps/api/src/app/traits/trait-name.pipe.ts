import { type PipeTransform } from '@nestjs/common';

import { InvalidInputError } from '../../common/errors';

const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** A CappTrait's name as the cluster judges it: a DNS-1123 subdomain of at most 253 characters. */
export class TraitNamePipe implements PipeTransform<string, string> {
  transform(value: string): string {
    const bad = (rule: string, message: string): InvalidInputError =>
      new InvalidInputError(`path parameter name ${message}`, [{ path: 'name', rule, message }]);
    if (typeof value !== 'string' || value.length === 0) throw bad('required', 'must not be empty');
    if (value.length > 253) throw bad('maxLength', 'must be at most 253 characters');
    if (!SUBDOMAIN.test(value))
      throw bad('pattern', 'must be a DNS-1123 subdomain (lowercase letters, digits, "-", ".")');
    return value;
  }
}

export const TRAIT_NAME_PIPE = new TraitNamePipe();
