/** What the API server says about a field when it refuses an object (`Status.details.causes`). */
export interface StatusCause {
  field?: string;
  reason?: string;
  message?: string;
}

/** What a Status names (`details`): the kind and name a NotFound or Conflict is about. */
export interface StatusDetails {
  kind?: string;
  name?: string;
  group?: string;
}

interface StatusBody {
  reason?: string;
  message?: string;
  code?: number;
  details?: StatusDetails & { causes?: StatusCause[] };
}

/** An answer of the API server other than 2xx. */
export class KubeApiError extends Error {
  constructor(
    readonly statusCode: number,
    /** The Status `reason` (`NotFound`, `Conflict`, `Invalid`, `Forbidden`, …). */
    readonly reason: string,
    message: string,
    readonly method: string,
    readonly path: string,
    /** Field-level causes (validation, admission webhooks). */
    readonly causes: StatusCause[] = [],
    /** The kind and name the answer is about (e.g. `namespaces`/`x` for a missing namespace). */
    readonly details: StatusDetails = {},
  ) {
    super(message);
    this.name = 'KubeApiError';
  }
}

/** 404: the object (or its namespace, or its kind) does not exist. */
export class NotFoundError extends KubeApiError {
  override readonly name = 'NotFoundError';
}
/** 409: a resourceVersion precondition failed, or the object already exists. */
export class ConflictError extends KubeApiError {
  override readonly name = 'ConflictError';
}
/** 410: a watch or list continuation is older than what etcd still keeps. */
export class GoneError extends KubeApiError {
  override readonly name = 'GoneError';
}
/** 422 (and 400): the object is invalid; `causes` names the fields. */
export class InvalidError extends KubeApiError {
  override readonly name = 'InvalidError';
}

/** The API server could not be reached, or did not answer in time. */
export class KubeUnreachableError extends Error {
  override readonly name = 'KubeUnreachableError';
  constructor(
    readonly method: string,
    readonly path: string,
    cause: unknown,
  ) {
    super(`${method} ${path}: API server unreachable (${describeCause(cause)})`, { cause });
  }
}

function describeCause(cause: unknown): string {
  if (!(cause instanceof Error)) return String(cause);
  const code = (cause as { code?: string }).code;
  return code && !cause.message.includes(code) ? `${cause.message} ${code}` : cause.message;
}

/** The typed error for an API server answer (`text` is its body, usually a Status). */
export function apiError(status: number, text: string, method: string, path: string): KubeApiError {
  const body = (safeJson(text) ?? {}) as StatusBody;
  const reason = body.reason ?? 'Unknown';
  const message = body.message ?? (text.slice(0, 500) || `HTTP ${status}`);
  const { causes = [], ...details } = body.details ?? {};
  const Type =
    status === 404
      ? NotFoundError
      : status === 409
        ? ConflictError
        : status === 410
          ? GoneError
          : status === 422 || status === 400
            ? InvalidError
            : KubeApiError;
  return new Type(status, reason, message, method, path, causes, details);
}

export const isNotFound = (err: unknown): err is NotFoundError => err instanceof NotFoundError;
export const isConflict = (err: unknown): err is ConflictError => err instanceof ConflictError;

/**
 * An answer that retrying the same request will not change (controller-runtime's terminal errors):
 * 4xx other than 404 (the namespace or CRD may appear), 409 (a newer version may be read) and 429.
 */
export function isPermanent(err: unknown): boolean {
  return (
    err instanceof KubeApiError &&
    err.statusCode >= 400 &&
    err.statusCode < 500 &&
    ![404, 408, 409, 429].includes(err.statusCode)
  );
}

export function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
