import type { Logger } from '@roster/core';

// pino-http sets these on every request (createBaseApp); tell express' types about them.
declare module 'express-serve-static-core' {
  interface Request {
    /** This request's id (the caller's X-Request-Id if sane, else a UUID). */
    id: string;
    /** The request-scoped logger: every line carries the request id. */
    log: Logger;
  }
}

export {};
