// Every HTTP call Roster makes out (IdP metadata URLs, back-channel logout tokens, webhooks)
// goes through sendOutbound, which refuses internal destinations: a tenant admin who can type a
// URL must not make Roster reach the cloud metadata service, the database or an admin port
// (server-side request forgery). The check runs after DNS, on every address the name resolves
// to, at connect time, so a name that answers 127.0.0.1 on the second lookup still cannot pass.
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/** Why a destination is refused, by range (README "Calls Roster makes out"). */
export const REFUSED_OUTBOUND_RANGES: readonly {
  readonly cidr: string;
  readonly what: string;
}[] = [
  // IPv4
  { cidr: '0.0.0.0/8', what: 'unspecified' },
  { cidr: '10.0.0.0/8', what: 'private (RFC 1918)' },
  { cidr: '100.64.0.0/10', what: 'carrier-grade NAT (RFC 6598)' },
  { cidr: '127.0.0.0/8', what: 'loopback' },
  { cidr: '169.254.169.254/32', what: 'cloud metadata' },
  { cidr: '169.254.0.0/16', what: 'link-local' },
  { cidr: '172.16.0.0/12', what: 'private (RFC 1918)' },
  { cidr: '192.168.0.0/16', what: 'private (RFC 1918)' },
  { cidr: '224.0.0.0/4', what: 'multicast' },
  { cidr: '240.0.0.0/4', what: 'reserved or broadcast' },
  // IPv6 (IPv4-mapped addresses ::ffff:a.b.c.d are checked as their IPv4 address)
  { cidr: '::/128', what: 'unspecified' },
  { cidr: '::1/128', what: 'loopback' },
  { cidr: 'fd00:ec2::254/128', what: 'cloud metadata' },
  { cidr: 'fc00::/7', what: 'private (unique local, RFC 4193)' },
  { cidr: 'fe80::/10', what: 'link-local' },
  { cidr: 'ff00::/8', what: 'multicast' },
];

/** Where an IPv6 address embeds an IPv4 one that the network may route to (RFC 6052 NAT64). */
const NAT64_PREFIX = /^64:ff9b::(?:ffff:)?/i;

/** Most entries in ROSTER_OUTBOUND_ALLOW_HOSTS. */
export const MAX_OUTBOUND_ALLOW_ENTRIES = 100;
/** Bytes of a response body kept as its excerpt (logs, the delivery attempt log). */
export const OUTBOUND_RESPONSE_EXCERPT_BYTES = 1024;

/** Decides which addresses Roster may connect to. */
export interface OutboundPolicy {
  /** True when `ip` (IPv4 or IPv6 text) is public, or listed in ROSTER_OUTBOUND_ALLOW_HOSTS. */
  isAllowedAddress(ip: string): boolean;
}

type Family = 'ipv4' | 'ipv6';
const familyOf = (ip: string): Family | undefined =>
  (({ 4: 'ipv4', 6: 'ipv6' }) as const)[isIP(ip) as 4 | 6];

/** The address without an IPv6 zone (`fe80::1%eth0`) or URL brackets (`[::1]`). */
const bareAddress = (ip: string): string => ip.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');

/** `64:ff9b::7f00:1` and `64:ff9b::127.0.0.1` hold 127.0.0.1: checked as that address too. */
function embeddedIpv4(ip: string): string | undefined {
  if (!NAT64_PREFIX.test(ip)) return undefined;
  const tail = ip.replace(NAT64_PREFIX, '');
  if (isIP(tail) === 4) return tail;
  const groups = /^([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(tail);
  if (!groups) return undefined;
  const [high, low] = [parseInt(groups[1] as string, 16), parseInt(groups[2] as string, 16)];
  return [high >> 8, high & 255, low >> 8, low & 255].join('.');
}

const refusedRanges = REFUSED_OUTBOUND_RANGES.map(({ cidr, what }) => {
  const list = new BlockList();
  addCidr(list, cidr);
  return { list, what };
});

function addCidr(list: BlockList, entry: string): void {
  const [address = '', prefix] = entry.split('/');
  const family = familyOf(address) as Family;
  if (prefix === undefined) list.addAddress(address, family);
  else list.addSubnet(address, Number(prefix), family);
}

/**
 * What kind of internal address `ip` is (`"loopback"`, `"private (RFC 1918)"`, ...), or
 * undefined when it is public. Not an IP address at all: `"not an IP address"`.
 */
export function internalAddressKind(ip: string): string | undefined {
  const address = bareAddress(ip);
  const family = familyOf(address);
  if (!family) return 'not an IP address';
  const candidates = [address, embeddedIpv4(address)].filter((a) => a !== undefined);
  for (const candidate of candidates) {
    const candidateFamily = familyOf(candidate) as Family;
    const range = refusedRanges.find(({ list }) => list.check(candidate, candidateFamily));
    if (range) return range.what;
  }
  return undefined;
}

/**
 * Reads ROSTER_OUTBOUND_ALLOW_HOSTS: comma-separated IP addresses and CIDR ranges, IPv4 or IPv6.
 * Returns the entries, or the problem with the first bad one. Host names are not accepted: what
 * a name resolves to can change between the check and the connection.
 */
export function parseOutboundAllowHosts(
  value: string | undefined,
): { readonly entries: readonly string[] } | { readonly problem: string } {
  const entries = (value ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  if (entries.length > MAX_OUTBOUND_ALLOW_ENTRIES)
    return { problem: `at most ${MAX_OUTBOUND_ALLOW_ENTRIES} entries` };
  for (const entry of entries) {
    const [address = '', prefix, extra] = bareAddress(entry).split('/');
    const family = familyOf(address);
    const bits = family === 'ipv4' ? 32 : 128;
    const prefixOk = prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= bits);
    if (!family || !prefixOk || extra !== undefined)
      return {
        problem: `"${entry.slice(0, 100)}" is not an IP address or CIDR range (for example 10.0.0.5, 10.0.0.0/8 or fd00::/8; host names are not accepted)`,
      };
  }
  return { entries: entries.map(bareAddress) };
}

/**
 * The policy of ROSTER_OUTBOUND_ALLOW_HOSTS: internal addresses (loopback, private, link-local,
 * CGNAT, unspecified, multicast, cloud metadata) are refused unless listed; every public address
 * is allowed. Throws on a value {@link parseOutboundAllowHosts} refuses (the configuration
 * schema refuses it at start first).
 *
 * @example
 * outboundPolicyFrom('10.0.0.0/8').isAllowedAddress('10.1.2.3'); // true
 * outboundPolicyFrom(undefined).isAllowedAddress('127.0.0.1'); // false
 */
export function outboundPolicyFrom(allowHosts: string | undefined): OutboundPolicy {
  const parsed = parseOutboundAllowHosts(allowHosts);
  if ('problem' in parsed) throw new Error(`ROSTER_OUTBOUND_ALLOW_HOSTS: ${parsed.problem}`);
  const allowed = new BlockList();
  for (const entry of parsed.entries) addCidr(allowed, entry);
  return {
    isAllowedAddress(ip: string): boolean {
      const address = bareAddress(ip);
      const family = familyOf(address);
      if (!family) return false;
      if (internalAddressKind(address) === undefined) return true;
      const embedded = embeddedIpv4(address);
      return (
        allowed.check(address, family) ||
        (embedded !== undefined && allowed.check(embedded, 'ipv4'))
      );
    },
  };
}

/** Why an outbound call did not get an answer. */
export const OUTBOUND_FAILURE_REASONS = [
  'invalid_url',
  'destination_refused',
  'connection_failed',
  'timeout',
] as const;
export type OutboundFailureReason = (typeof OUTBOUND_FAILURE_REASONS)[number];

/** An outbound call that got no HTTP answer; the message is safe to show an operator. */
export class OutboundError extends Error {
  override readonly name = 'OutboundError';
  readonly reason: OutboundFailureReason;
  /** The refused address, for `destination_refused`. */
  readonly address: string | undefined;
  constructor(reason: OutboundFailureReason, message: string, address?: string) {
    super(message);
    this.reason = reason;
    this.address = address;
  }
}

function refusedError(host: string, address: string): OutboundError {
  const kind = internalAddressKind(address) ?? 'internal';
  const named = host === address ? address : `${host} (${address})`;
  return new OutboundError(
    'destination_refused',
    `destination refused: ${named} is a ${kind} address; list it in ROSTER_OUTBOUND_ALLOW_HOSTS to allow it`,
    address,
  );
}

/** A DNS lookup that fails when any address the name has is refused by the policy. */
function guardedLookup(policy: OutboundPolicy): LookupFunction {
  return (hostname, options: LookupOptions, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 0);
      const refused = addresses.find(({ address }) => !policy.isAllowedAddress(address));
      if (refused) return callback(refusedError(hostname, refused.address), '', 0);
      const first = addresses[0];
      if (!first) return callback(new Error(`${hostname} has no address`), '', 0);
      if (options.all) return (callback as (e: null, a: LookupAddress[]) => void)(null, addresses);
      return callback(null, first.address, first.family);
    });
  };
}

/** What an outbound call sends. */
export interface OutboundRequest {
  readonly method?: 'POST' | 'GET';
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

/** Limits and the policy of one outbound call. */
export interface OutboundOptions {
  readonly policy: OutboundPolicy;
  /** For everything: resolving, connecting, sending and reading the whole response. */
  readonly timeoutMs: number;
  /** Largest response body read; a longer one is cut there (`body` is then absent). */
  readonly maxResponseBytes: number;
}

/** The answer to an outbound call. */
export interface OutboundResponse {
  readonly status: number;
  readonly latencyMs: number;
  /** The first {@link OUTBOUND_RESPONSE_EXCERPT_BYTES} bytes of the body, as UTF-8. */
  readonly bodyExcerpt: string;
  /** The whole body; absent when it was longer than `maxResponseBytes`. */
  readonly body?: string;
  readonly headers: IncomingHttpHeaders;
}

/**
 * Sends one HTTP(S) request to a destination the policy allows. Redirects are never followed
 * (a 3xx is the answer); TLS certificates are always verified. Throws {@link OutboundError} when
 * there is no answer: a bad URL, a refused destination (`destination_refused`, naming the
 * address), a connection or TLS failure, or the time limit.
 *
 * @example
 * const { status } = await sendOutbound(url, { method: 'POST', body }, { policy, timeoutMs: 5000, maxResponseBytes: 65536 });
 */
export async function sendOutbound(
  url: string,
  request: OutboundRequest,
  options: OutboundOptions,
): Promise<OutboundResponse> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw new OutboundError('invalid_url', 'not a URL');
  }
  if (target.protocol !== 'https:' && target.protocol !== 'http:')
    throw new OutboundError('invalid_url', 'only http and https URLs are called');
  if (target.username || target.password)
    throw new OutboundError('invalid_url', 'a URL with credentials is not called');
  // net.connect skips the lookup for an IP literal: checked here instead.
  const literal = bareAddress(target.hostname);
  if (isIP(literal) && !options.policy.isAllowedAddress(literal))
    throw refusedError(literal, literal);

  const started = performance.now();
  const transport = target.protocol === 'https:' ? https : http;
  const headers: Record<string, string> = { 'user-agent': 'Roster', ...request.headers };
  if (request.body !== undefined)
    headers['content-length'] = String(Buffer.byteLength(request.body, 'utf8'));

  return new Promise<OutboundResponse>((resolve, reject) => {
    const outgoing = transport.request(target, {
      method: request.method ?? 'GET',
      headers,
      lookup: guardedLookup(options.policy),
      // A fresh connection each time, so every call resolves and checks again.
      agent: false,
      rejectUnauthorized: true,
    });
    const timer = setTimeout(() => {
      outgoing.destroy(
        new OutboundError('timeout', `no complete answer within ${options.timeoutMs} ms`),
      );
    }, options.timeoutMs);
    const fail = (error: unknown) => {
      clearTimeout(timer);
      reject(asOutboundError(error));
    };
    outgoing.on('error', fail);
    outgoing.on('response', (response: IncomingMessage) => {
      readCapped(response, options.maxResponseBytes).then(({ bytes, complete }) => {
        clearTimeout(timer);
        if (!complete) outgoing.destroy();
        const text = bytes.toString('utf8');
        resolve({
          status: response.statusCode ?? 0,
          latencyMs: Math.round(performance.now() - started),
          bodyExcerpt: bytes.subarray(0, OUTBOUND_RESPONSE_EXCERPT_BYTES).toString('utf8'),
          ...(complete ? { body: text } : {}),
          headers: response.headers,
        });
      }, fail);
    });
    outgoing.end(request.body);
  });
}

/** Reads at most `maxBytes` of a body; `complete` is false when there was more. */
function readCapped(
  response: IncomingMessage,
  maxBytes: number,
): Promise<{ bytes: Buffer; complete: boolean }> {
  return new Promise((resolve, reject) => {
    // Declared too long: not read at all (no excerpt either).
    if (Number(response.headers['content-length'] ?? '0') > maxBytes) {
      resolve({ bytes: Buffer.alloc(0), complete: false });
      response.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    response.on('data', (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > maxBytes) {
        chunks.push(chunk.subarray(0, chunk.byteLength - (size - maxBytes)));
        // Settled before the destroy, whose 'aborted' must not turn this into a failure.
        resolve({ bytes: Buffer.concat(chunks), complete: false });
        response.destroy();
        return;
      }
      chunks.push(chunk);
    });
    response.on('end', () => resolve({ bytes: Buffer.concat(chunks), complete: true }));
    response.on('error', reject);
    response.on('aborted', () => reject(new Error('the connection closed mid-response')));
  });
}

function asOutboundError(error: unknown): OutboundError {
  if (error instanceof OutboundError) return error;
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return new OutboundError('connection_failed', `could not resolve the host name (${code})`);
  return new OutboundError('connection_failed', message);
}
