// The loop every queue of calls out runs on each instance (outbound/deliveries.ts, webhooks/):
// a round at start, one every interval, one at once when woken, and the next straight away while
// a round says there is more. Rounds never overlap; stop() waits for the one in flight.
import type { Logger } from '../logger.js';

/** A running worker. */
export interface WorkerLoop {
  /** Runs a round now (call it after committing work for it), not at the next poll. */
  wake(): void;
  /** Stops polling and waits for the round in flight. */
  stop(): Promise<void>;
}

/**
 * Runs `round` at once, then every `intervalMs`, when woken, and again straight away while it
 * returns true (more is due). A throw is logged as `failureMessage`, never rethrown.
 */
export function startWorkerLoop(
  round: () => Promise<boolean>,
  options: { intervalMs: number; logger: Logger; failureMessage: string },
): WorkerLoop {
  let stopped = false;
  let running: Promise<void> | undefined;
  let again = false;
  let timer: NodeJS.Timeout | undefined;

  const schedule = (delayMs: number) => {
    if (stopped) return;
    clearTimeout(timer);
    timer = setTimeout(run, delayMs);
    timer.unref();
  };
  const run = () => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    again = false;
    running = (async () => {
      let more = false;
      try {
        more = await round();
      } catch (error) {
        options.logger.error({ err: error }, options.failureMessage);
      }
      running = undefined;
      schedule(more || again ? 0 : options.intervalMs);
    })();
  };
  schedule(0);
  return {
    wake: run,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
