import pino from 'pino';

/** Keys whose values never reach a log line, wherever a caller puts them. */
export const REDACTED_PATHS = [
  'authorization',
  'token',
  'password',
  '*.token',
  '*.password',
  'headers.authorization',
] as const;

/**
 * The operator's logger: one JSON object per line with an ISO `time`, the level as a label
 * (`"level":"info"`), `component: capp-operator` and credentials redacted.
 * `level` is a pino level (`fatal` … `trace`, or `silent`); pino throws on an unknown one.
 * Without `destination` it writes to stdout.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): pino.Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { component: 'capp-operator' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: [...REDACTED_PATHS], censor: '[REDACTED]' },
  };
  return destination ? pino(options, destination) : pino(options);
}

/** The fields of a Capp that identify it in logs (any Kubernetes object will do). */
export interface LoggedObject {
  metadata: { namespace?: string; name?: string; generation?: number };
}

/** A child logger whose every line carries the Capp's `namespace`, `name` and `generation`. */
export function cappLogger(logger: pino.Logger, capp: LoggedObject): pino.Logger {
  const { namespace, name, generation } = capp.metadata;
  return logger.child({ namespace, name, generation });
}
