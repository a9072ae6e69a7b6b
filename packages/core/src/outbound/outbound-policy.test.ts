import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  OutboundError,
  outboundPolicyFrom,
  parseOutboundAllowHosts,
  sendOutbound,
} from './outbound-policy.js';

const strict = outboundPolicyFrom(undefined);

describe('outboundPolicyFrom', () => {
  it.each([
    ['0.0.0.0', 'unspecified'],
    ['10.1.2.3', 'RFC 1918'],
    ['172.16.0.1', 'RFC 1918'],
    ['172.31.255.255', 'RFC 1918'],
    ['192.168.1.1', 'RFC 1918'],
    ['100.64.0.1', 'CGNAT'],
    ['100.127.255.254', 'CGNAT'],
    ['127.0.0.1', 'loopback'],
    ['127.8.9.10', 'loopback'],
    ['169.254.1.1', 'link-local'],
    ['169.254.169.254', 'cloud metadata'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['fc00::1', 'unique local'],
    ['fd12:3456::1', 'unique local'],
    ['fd00:ec2::254', 'cloud metadata'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local with a zone'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'IPv4-mapped loopback'],
    ['::ffff:a9fe:a9fe', 'IPv4-mapped metadata'],
    ['64:ff9b::7f00:1', 'NAT64 loopback'],
    ['64:ff9b::10.0.0.1', 'NAT64 private'],
    ['not-an-ip', 'not an address'],
  ])('refuses %s (%s) by default', (ip) => {
    expect(strict.isAllowedAddress(ip)).toBe(false);
  });

  it.each([
    '1.1.1.1',
    '8.8.8.8',
    '172.32.0.1',
    '100.128.0.1',
    '169.255.0.1',
    '2606:4700:4700::1111',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
  ])('allows the public address %s', (ip) => {
    expect(strict.isAllowedAddress(ip)).toBe(true);
  });

  it('allows a listed address, and only that one', () => {
    const policy = outboundPolicyFrom('127.0.0.1');
    expect(policy.isAllowedAddress('127.0.0.1')).toBe(true);
    expect(policy.isAllowedAddress('::ffff:127.0.0.1')).toBe(true);
    expect(policy.isAllowedAddress('127.0.0.2')).toBe(false);
    expect(policy.isAllowedAddress('::1')).toBe(false);
  });

  it('allows a listed CIDR range, IPv4 and IPv6', () => {
    const policy = outboundPolicyFrom(' 10.0.0.0/8 , fd00::/8,::1 ');
    expect(policy.isAllowedAddress('10.200.3.4')).toBe(true);
    expect(policy.isAllowedAddress('192.168.0.1')).toBe(false);
    expect(policy.isAllowedAddress('fd12::1')).toBe(true);
    expect(policy.isAllowedAddress('fc00::1')).toBe(false);
    expect(policy.isAllowedAddress('::1')).toBe(true);
    expect(policy.isAllowedAddress('169.254.169.254')).toBe(false);
  });

  it('refuses what is not an address or a range, naming the entry', () => {
    for (const bad of [
      'localhost',
      '10.0.0.0/33',
      '::1/129',
      '10.0.0.1/8/8',
      '10.0.0',
      '1.2.3.4/x',
    ])
      expect(parseOutboundAllowHosts(bad)).toEqual({ problem: expect.stringContaining(bad) });
    expect(() => outboundPolicyFrom('example.com')).toThrow(/ROSTER_OUTBOUND_ALLOW_HOSTS/);
    expect(parseOutboundAllowHosts('')).toEqual({ entries: [] });
    expect(parseOutboundAllowHosts('[::1], 10.0.0.0/8')).toEqual({
      entries: ['::1', '10.0.0.0/8'],
    });
  });
});

describe('sendOutbound', () => {
  let server: Server;
  let port: number;
  const received: { method: string; body: string }[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        received.push({ method: req.method ?? '', body });
        if (req.url === '/ok') res.end('thanks');
        else if (req.url === '/redirect') {
          res.writeHead(302, { location: '/ok' });
          res.end();
        } else if (req.url === '/big') {
          res.write('a'.repeat(4096));
          res.end('b'.repeat(4096));
        } else if (req.url === '/declared-big') {
          res.writeHead(200, { 'content-length': String(1 << 20) });
          res.write('a');
        } else if (req.url === '/slow') setTimeout(() => res.end('late'), 2_000);
        else if (req.url === '/trickle') {
          res.write('a');
          setTimeout(() => res.end('b'), 2_000);
        } else {
          res.statusCode = 500;
          res.write('x'.repeat(3000));
          res.end();
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  const allowLoopback = outboundPolicyFrom('127.0.0.1,::1');
  const limits = { timeoutMs: 1_000, maxResponseBytes: 1024 };
  const send = (path: string, policy = allowLoopback, host = '127.0.0.1') =>
    sendOutbound(
      `http://${host}:${port}${path}`,
      { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' },
      { ...limits, policy },
    );
  const refusal = (promise: Promise<unknown>) =>
    promise.then(
      () => undefined,
      (error: unknown) => error,
    );

  it('posts the body and answers status, latency, body and excerpt', async () => {
    const response = await send('/ok');
    expect(response).toMatchObject({ status: 200, body: 'thanks', bodyExcerpt: 'thanks' });
    expect(response.latencyMs).toBeGreaterThanOrEqual(0);
    expect(received.at(-1)).toEqual({ method: 'POST', body: 'hello' });
  });

  it('refuses an IP literal on loopback unless allowed, without connecting', async () => {
    const before = received.length;
    const error = await refusal(send('/ok', strict));
    expect(error).toBeInstanceOf(OutboundError);
    expect(error).toMatchObject({ reason: 'destination_refused', address: '127.0.0.1' });
    expect((error as Error).message).toMatch(/127\.0\.0\.1 is a loopback address/);
    expect(received.length).toBe(before);
  });

  it('refuses a name that resolves to loopback (localhost) unless allowed', async () => {
    const error = await refusal(send('/ok', strict, 'localhost'));
    expect(error).toMatchObject({ reason: 'destination_refused' });
    expect((error as Error).message).toMatch(/localhost \((127\.0\.0\.1|::1)\)/);
    expect((await send('/ok', allowLoopback, 'localhost')).status).toBe(200);
  });

  it('refuses an IPv6 literal on loopback', async () => {
    const error = await refusal(send('/ok', strict, '[::1]'));
    expect(error).toMatchObject({ reason: 'destination_refused', address: '::1' });
  });

  it('never follows a redirect: the 3xx is the answer', async () => {
    const response = await send('/redirect');
    expect(response.status).toBe(302);
    expect(response.headers.location).toBe('/ok');
  });

  it('stops reading at the size cap: the excerpt is kept, the body is not', async () => {
    const big = await send('/big');
    expect(big.status).toBe(200);
    expect(big.body).toBeUndefined();
    expect(big.bodyExcerpt).toBe('a'.repeat(1024));
    const declared = await send('/declared-big');
    expect(declared).toMatchObject({ status: 200, bodyExcerpt: '' });
    expect(declared.body).toBeUndefined();
    const error = await send('/error');
    expect(error.status).toBe(500);
    expect(error.body).toBeUndefined();
    expect(Buffer.byteLength(error.bodyExcerpt)).toBe(1024);
  });

  it('gives up at the time limit, for a slow answer and for a slow body', async () => {
    for (const path of ['/slow', '/trickle']) {
      const error = await refusal(
        sendOutbound(
          `http://127.0.0.1:${port}${path}`,
          {},
          { ...limits, timeoutMs: 200, policy: allowLoopback },
        ),
      );
      expect(error).toMatchObject({ reason: 'timeout' });
    }
  });

  it('names a connection failure and a bad URL', async () => {
    const closed = await refusal(
      sendOutbound('http://127.0.0.1:9/x', {}, { ...limits, policy: allowLoopback }),
    );
    expect(closed).toMatchObject({ reason: 'connection_failed' });
    for (const url of ['ftp://example.com/x', 'not a url', 'https://user:pw@example.com/'])
      expect(await refusal(sendOutbound(url, {}, { ...limits, policy: strict }))).toMatchObject({
        reason: 'invalid_url',
      });
  });
});
