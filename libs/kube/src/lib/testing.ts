import pino, { type Logger } from 'pino';

/** A pino logger for specs: JSON lines with the level as a label, to `stream` (default: nowhere). */
export function testLogger(level = 'silent', stream?: { write(line: string): void }): Logger {
  const options = { level, formatters: { level: (label: string) => ({ level: label }) } };
  return stream ? pino(options, stream) : pino(options);
}
