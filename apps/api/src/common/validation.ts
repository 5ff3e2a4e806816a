import { CappWriteDto, cappWriteSchema, issuesFromValidationErrors, ValidationIssue } from '@capp/capp-model';
import { ValidationError, ValidationPipe } from '@nestjs/common';

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

/** The ValidationPipe of DESIGN §5: whitelist, forbid unknown fields, transform. */
export function validationPipe(expectedType?: new () => object): ValidationPipe {
  return new ValidationPipe({
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
