// A 410 from the admin API (events pruned by the retention) is reported with what to do next.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callAdmin, CliError } from '../src/client.js';

let server: Server;
let url: string;
beforeAll(async () => {
  // The admin API's error body for a `Gone` core error (@roster/http maps it to 410).
  server = createServer((_req, res) => {
    res.writeHead(410, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        error: { code: 'Gone', message: 'the events after this position are no longer kept' },
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

describe('410 Gone', () => {
  it('prints the status, the server message and a hint, and exits 1', async () => {
    const failure = await callAdmin({ url, token: 't', operator: 'op' }, 'GET', '/x').catch(
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(CliError);
    const { message, exitCode } = failure as CliError;
    expect(exitCode).toBe(1);
    expect(message).toMatch(/^410 the events after this position are no longer kept\nhint: /);
    expect(message).toContain('EVENTS_RETENTION_DAYS');
  });
});
