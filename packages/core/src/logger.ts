import { pino, type Logger as PinoLogger } from 'pino';
import type { LogLevel } from './config/config.schema.js';

export type Logger = PinoLogger;

/**
 * Paths never written to a log line: credentials, SAML messages and cookies (STYLE B5).
 * Request bodies are never logged at all.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'token',
  '*.token',
  'SAMLResponse',
  '*.SAMLResponse',
  'SAMLRequest',
  '*.SAMLRequest',
  'password',
  '*.password',
];

/**
 * One JSON logger for the process; modules take `logger.child({ module })`.
 *
 * @example
 * const logger = createLogger({ level: 'info' });
 * logger.child({ module: 'scim' }).info({ tenant: 'acme' }, 'scim.user.created');
 */
export function createLogger(options: {
  level: LogLevel;
  destination?: NodeJS.WritableStream;
}): Logger {
  return pino(
    {
      level: options.level,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      base: { pid: process.pid },
    },
    options.destination ?? process.stdout,
  );
}
