import { cappWriteSchema, ValidationIssue } from '@capp/capp-model';
import { CappWriteDto, issuesFromValidationErrors } from '@capp/capp-model/dto';
import { type ArgumentMetadata, ValidationError, ValidationPipe } from '@nestjs/common';

import { InvalidInputError } from './errors';

/** class-validator constraint names → the rule ids the rest of the API uses. */
const RULES: Record<string, string> = {
  whitelistValidation: 'unknownField',
  isInt: 'type',
  isString: 'type',
  isIn: 'enum',
  isEnum: 'enum',
  min: 'minimum',
  max: 'maximum',
  isDefined: 'required',
  isNotEmpty: 'required',
};

function flatten(errors: readonly ValidationError[], base = ''): ValidationIssue[] {
  return errors.flatMap((e) => {
    const path = base ? `${base}.${e.property}` : e.property;
    const own = Object.entries(e.constraints ?? {}).map(([constraint, message]) => ({
      path,
      rule: RULES[constraint] ?? constraint,
      message: constraint === 'whitelistValidation' ? 'is not a known field' : message,
    }));
    return [...own, ...flatten(e.children ?? [], path)];
  });
}

/** Validation failures as the one error envelope: every bad field named, with its rule. */
export function validationIssues(errors: ValidationError[]): ValidationIssue[] {
  const capp = errors.filter((e) => e.target instanceof CappWriteDto);
  const other = errors.filter((e) => !(e.target instanceof CappWriteDto));
  return [...issuesFromValidationErrors(capp, cappWriteSchema), ...flatten(other)];
}

/** The types the ValidationPipe does not validate (its toValidate), and no type at all. */
const PRIMITIVES = new Set<unknown>([undefined, String, Boolean, Number, Array, Object, Buffer, Date]);

/**
 * Path parameters are left as the strings they arrived as: each has its own pipe (common/params.ts)
 * that judges the text (`1e3` is not a revision number, though `Number('1e3')` is 1000).
 */
class CappValidationPipe extends ValidationPipe {
  override transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    // What the ValidationPipe would do to a path parameter of a primitive type (nothing: see
    // transformPrimitive), without its metadata checks per parameter of every request.
    if (metadata.type === 'param' && !this.expectedType && PRIMITIVES.has(metadata.metatype))
      return Promise.resolve(value);
    return super.transform(value, metadata);
  }

  protected override transformPrimitive(value: unknown, metadata: ArgumentMetadata): unknown {
    return metadata.type === 'param' ? value : super.transformPrimitive(value, metadata);
  }
}

/** The ValidationPipe of DESIGN §5: whitelist, forbid unknown fields, transform. */
export function validationPipe(expectedType?: new () => object): ValidationPipe {
  return new CappValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    expectedType,
    // The capp rules need the validated object and values to name each field (see validationIssues).
    validationError: { target: true, value: true },
    exceptionFactory: (errors) => {
      const details = validationIssues(errors);
      return new InvalidInputError(
        `the request is invalid: ${details.map((d) => `${d.path || '<root>'} ${d.message}`).join('; ')}`,
        details,
      );
    },
  });
}
