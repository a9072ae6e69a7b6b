// A logger whose JSON lines a test reads back (what a worker logged, and that no secret was).
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../logger.js';

/** One parsed log line. */
export interface CapturedLogLine {
  readonly level: number;
  readonly msg: string;
  readonly [key: string]: unknown;
}

/** A debug-level logger that appends every line it writes, parsed, to `lines`. */
export function capturingLogger(lines: CapturedLogLine[]): Logger {
  return createLogger({
    level: 'debug',
    destination: new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean))
          lines.push(JSON.parse(line) as CapturedLogLine);
        done();
      },
    }),
  });
}
