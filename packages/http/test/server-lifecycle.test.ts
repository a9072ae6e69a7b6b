import express from 'express';
import { describe, expect, it } from 'vitest';
import { closeGracefully, listen, urlOf } from '../src/index.js';

function slowApp(delayMs: number) {
  const app = express();
  app.get('/slow', async (_req, res) => {
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    res.json({ done: true });
  });
  return app;
}

describe('graceful close', () => {
  it('finishes a request in flight, then refuses new connections', async () => {
    const server = await listen(slowApp(300), '127.0.0.1', 0);
    const url = urlOf(server, '127.0.0.1');
    const inFlight = fetch(`${url}/slow`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const closing = closeGracefully(server, 5_000);
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ done: true });
    expect(await closing).toBe(true);
    await expect(fetch(`${url}/slow`)).rejects.toThrow();
  });

  it('cuts requests still running when the timeout passes, and says so', async () => {
    const server = await listen(slowApp(5_000), '127.0.0.1', 0);
    const url = urlOf(server, '127.0.0.1');
    const inFlight = fetch(`${url}/slow`).then(
      () => 'answered',
      () => 'cut',
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await closeGracefully(server, 100)).toBe(false);
    expect(await inFlight).toBe('cut');
  });
});
