// A webhook receiver for the events benchmarks: node:http on a free loopback port, every
// delivery's signature checked with the `standardwebhooks` package (a failed check is counted and
// printed with `!!`), the arrival time of each event noted.
/* global Buffer, performance */
import { createServer } from 'node:http';
import { Webhook } from 'standardwebhooks';

/**
 * Resolves to { url, setSecret(secret), arrivals: Map<eventId, { at, event }>, count(),
 * badSignatures(), onArrival(listener), close() }. A repeat keeps the first arrival time.
 */
export async function startBenchReceiver() {
  let verifier;
  let delivered = 0;
  let bad = 0;
  const arrivals = new Map();
  const listeners = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      const at = performance.now();
      const body = Buffer.concat(chunks).toString('utf8');
      try {
        verifier.verify(body, req.headers);
      } catch {
        bad += 1;
        res.writeHead(400).end();
        return;
      }
      const event = JSON.parse(body);
      delivered += 1;
      if (!arrivals.has(event.id)) arrivals.set(event.id, { at, event });
      for (const listener of listeners) listener(event, at);
      res.writeHead(200).end();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/hook`,
    setSecret(secret) {
      verifier = new Webhook(secret);
    },
    arrivals,
    /** Deliveries answered 200 (repeats included). */
    count: () => delivered,
    badSignatures: () => bad,
    onArrival: (listener) => listeners.push(listener),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(resolve);
      }),
  };
}
