import type { ValidationIssue } from '@capp/capp-model';

/**
 * Domain errors: what went wrong in the platform's terms. The exception filter turns each into the
 * one error envelope with its HTTP status; nothing below the controllers knows about HTTP.
 */
export abstract class DomainError extends Error {
  abstract readonly status: number;
  abstract readonly error: string;
  readonly details: ValidationIssue[] = [];
}

export class NotFoundError extends DomainError {
  readonly status = 404;
  readonly error = 'Not Found';
}

export class AlreadyExistsError extends DomainError {
  readonly status = 409;
  readonly error = 'Conflict';
}

/** Someone else changed the row between our read and our write (optimistic concurrency). */
export class ConcurrentUpdateError extends DomainError {
  readonly status = 409;
  readonly error = 'Conflict';
}

export class PreconditionFailedError extends DomainError {
  readonly status = 412;
  readonly error = 'Precondition Failed';
}

export class InvalidInputError extends DomainError {
  readonly status: number;
  readonly error: string;
  override readonly details: ValidationIssue[];

  constructor(message: string, details: ValidationIssue[], status: 400 | 422 = 400) {
    super(message);
    this.details = details;
    this.status = status;
    this.error = status === 400 ? 'Bad Request' : 'Unprocessable Entity';
  }
}

export class DatabaseUnavailableError extends DomainError {
  readonly status = 503;
  readonly error = 'Service Unavailable';
}

export class UnauthenticatedError extends DomainError {
  readonly status = 401;
  readonly error = 'Unauthorized';
}

export class ForbiddenError extends DomainError {
  readonly status = 403;
  readonly error = 'Forbidden';
}

/** Authentication or authorization could not be decided (the cluster did not answer). */
export class AuthUnavailableError extends DomainError {
  readonly status = 503;
  readonly error = 'Service Unavailable';
}
