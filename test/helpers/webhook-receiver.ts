// A webhook receiver as an app would run it: a real node:http server on 127.0.0.1 that checks
// every delivery's signature with the `standardwebhooks` package (an implementation we did not
// write) and keeps what arrived, in arrival order. One receiver serves several endpoints, one per
// path, each with its own signing secret. It can hold requests unanswered (a slow app), so that a
// test can kill the delivering process while a delivery is in flight.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';

/** Longest a `waitFor` waits before it fails the test, naming what it waited for. */
export const RECEIVER_WAIT_TIMEOUT_MS = 60_000;
/** Largest body the receiver reads (an event is far smaller). */
const MAX_BODY_BYTES = 1_000_000;

/** An event body as the webhooks carry it. */
export interface DeliveredEvent {
  readonly id: string;
  readonly type: string;
  readonly version: number;
  readonly occurredAt: string;
  readonly data: Record<string, unknown>;
  /** The tenant's slug. */
  readonly tenant?: string;
}

/** One request that reached the receiver. */
export interface Delivery {
  /** The endpoint's path (`/a`, `/b`, ...). */
  readonly path: string;
  /** The `webhook-id` header. */
  readonly webhookId: string;
  readonly event: DeliveredEvent;
  /** When it arrived (performance.now() of this process). */
  readonly arrivedAt: number;
  /** Why the signature did not verify; undefined when it did. */
  readonly signatureError: string | undefined;
  /** Whether the receiver answered it 2xx (false while held, and for ever if the sender died). */
  answered: boolean;
}

export interface WebhookReceiver {
  /** The URL of the endpoint at `path` (default `/hook`). */
  url(path?: string): string;
  /** The signing secret (`whsec_...`) of the endpoint at `path`. */
  setSecret(path: string, secret: string): void;
  /** Every request so far, in arrival order. */
  readonly deliveries: readonly Delivery[];
  /** The event ids that reached `path`, in arrival order (repeats included). */
  idsAt(path?: string): string[];
  /** Requests whose signature did not verify (a test asserts there are none). */
  signatureErrors(): string[];
  /** From now on, requests are kept unanswered until `release()`. */
  hold(): void;
  /** Answers every held request 200 and stops holding. */
  release(): void;
  /** Calls `onDelivery` for each new request, as it arrives (before it is answered). */
  onDelivery(listener: (delivery: Delivery) => void): void;
  /**
   * Resolves once `done()` holds (checked at each delivery); fails after `timeoutMs` (default
   * {@link RECEIVER_WAIT_TIMEOUT_MS}) naming `what`.
   */
  waitFor(what: string, done: () => boolean, timeoutMs?: number): Promise<void>;
  /** Whether the sender of the held request has closed its connection. */
  heldConnectionsClosed(): boolean[];
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) reject(new Error('body too large'));
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const secrets = new Map<string, string>();
  const deliveries: Delivery[] = [];
  const listeners: ((delivery: Delivery) => void)[] = [];
  const waiters = new Set<() => void>();
  let holding = false;
  const held: { delivery: Delivery; res: ServerResponse; closed: boolean }[] = [];

  const answer = (delivery: Delivery, res: ServerResponse) => {
    if (res.destroyed) return;
    delivery.answered = true;
    res.writeHead(delivery.signatureError ? 400 : 200).end();
  };

  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    readBody(req).then(
      (body) => {
        const secret = secrets.get(path);
        let signatureError: string | undefined;
        try {
          if (!secret) throw new WebhookVerificationError(`no secret for ${path}`);
          // Throws unless one of the signatures is the secret's over id, timestamp and body.
          new Webhook(secret).verify(body, req.headers as Record<string, string>);
        } catch (error) {
          signatureError = error instanceof Error ? error.message : String(error);
        }
        let event: DeliveredEvent;
        try {
          event = JSON.parse(body) as DeliveredEvent;
        } catch {
          res.writeHead(400).end();
          return;
        }
        const delivery: Delivery = {
          path,
          webhookId: String(req.headers['webhook-id'] ?? ''),
          event,
          arrivedAt: performance.now(),
          signatureError: signatureError && `${path} ${event.id}: ${signatureError}`,
          answered: false,
        };
        deliveries.push(delivery);
        for (const listener of listeners) listener(delivery);
        if (holding) {
          const entry = { delivery, res, closed: false };
          // Before an answer, 'close' means the sender went away (timeout, crash).
          res.once('close', () => (entry.closed = true));
          held.push(entry);
        } else answer(delivery, res);
        for (const wake of waiters) wake();
      },
      () => res.writeHead(413).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: (path = '/hook') => `http://127.0.0.1:${port}${path}`,
    setSecret: (path, secret) => secrets.set(path, secret),
    deliveries,
    idsAt: (path = '/hook') => deliveries.filter((d) => d.path === path).map((d) => d.event.id),
    signatureErrors: () => deliveries.flatMap((d) => (d.signatureError ? [d.signatureError] : [])),
    hold: () => {
      holding = true;
    },
    release: () => {
      holding = false;
      for (const { delivery, res } of held.splice(0)) answer(delivery, res);
    },
    onDelivery: (listener) => listeners.push(listener),
    heldConnectionsClosed: () => held.map(({ closed }) => closed),
    async waitFor(what, done, timeoutMs = RECEIVER_WAIT_TIMEOUT_MS) {
      if (done()) return;
      let wake: () => void = () => undefined;
      let timer: NodeJS.Timeout | undefined;
      try {
        await new Promise<void>((resolve, reject) => {
          wake = () => {
            if (done()) resolve();
          };
          waiters.add(wake);
          timer = setTimeout(
            () =>
              reject(
                new Error(
                  `webhook receiver: still waiting for ${what} after ${timeoutMs} ms (${deliveries.length} deliveries)`,
                ),
              ),
            timeoutMs,
          );
        });
      } finally {
        waiters.delete(wake);
        clearTimeout(timer);
      }
    },
    async close() {
      holding = false;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Checks that `arrived` (event ids in arrival order, repeats included) is `expected` delivered in
 * order, at least once, where a repeat may only restart from an earlier point of the sequence
 * (a redelivery after a crash): returns the ids that arrived more than once.
 */
export function repeatsOf(arrived: readonly string[], expected: readonly string[]): string[] {
  const position = new Map(expected.map((id, index) => [id, index]));
  const seen = new Set<string>();
  const repeats: string[] = [];
  let next = 0; // the position the next new event must have
  for (const id of arrived) {
    const at = position.get(id);
    if (at === undefined) throw new Error(`delivered ${id}, which is not one of the events`);
    if (seen.has(id)) repeats.push(id);
    else if (at !== next)
      throw new Error(`delivered ${id} (position ${at}) when position ${next} was next`);
    else {
      seen.add(id);
      next += 1;
    }
  }
  return repeats;
}
