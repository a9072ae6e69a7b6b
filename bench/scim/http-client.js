// A small SCIM client over node:http with keep-alive, as an IdP talks to us: real HTTP on
// loopback, JSON bodies, a bearer token.
/* global Buffer */
import { Agent, request } from 'node:http';

export class ScimClient {
  /**
   * @param {number} port where the SCIM app listens on 127.0.0.1
   * @param {string} slug the tenant (`/scim/v2/<slug>`)
   * @param {string} token its SCIM bearer token
   * @param {number} maxSockets concurrent connections (one per simulated client)
   */
  constructor(port, slug, token, maxSockets = 8) {
    this.port = port;
    this.base = `/scim/v2/${slug}`;
    this.token = token;
    this.agent = new Agent({ keepAlive: true, maxSockets });
  }

  /** Sends one request; resolves to { status, body } (body parsed when JSON), never rejects on status. */
  send(method, path, body) {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers = { authorization: `Bearer ${this.token}`, accept: 'application/scim+json' };
    if (payload !== undefined) {
      headers['content-type'] = 'application/scim+json';
      headers['content-length'] = Buffer.byteLength(payload);
    }
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: this.port,
          method,
          path: this.base + path,
          agent: this.agent,
          headers,
        },
        (res) => {
          const chunks = [];
          res.on('data', (chunk) => chunks.push(chunk));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed = text;
            if (text.length > 0 && /json/.test(res.headers['content-type'] ?? '')) {
              try {
                parsed = JSON.parse(text);
              } catch {
                // keep the text: a broken body is reported as it came
              }
            }
            resolve({ status: res.statusCode, body: parsed });
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  get(path) {
    return this.send('GET', path);
  }
  post(path, body) {
    return this.send('POST', path, body);
  }
  patch(path, body) {
    return this.send('PATCH', path, body);
  }

  /** Like send, but throws a readable error unless the status is one of `expected`. */
  async expect(expected, method, path, body) {
    const response = await this.send(method, path, body);
    if (!expected.includes(response.status)) throw new HttpStatusError(method, path, response);
    return response;
  }

  close() {
    this.agent.destroy();
  }
}

export class HttpStatusError extends Error {
  constructor(method, path, response) {
    const detail =
      typeof response.body === 'object' && response.body !== null
        ? (response.body.detail ?? JSON.stringify(response.body).slice(0, 300))
        : String(response.body).slice(0, 300);
    super(`${method} ${path.slice(0, 120)} → HTTP ${response.status}: ${detail}`);
    this.status = response.status;
  }
}

/** `filter=<attribute> eq "<value>"`, encoded for a query string. */
export const eqFilter = (attribute, value) =>
  `filter=${encodeURIComponent(`${attribute} eq "${value}"`)}`;

/** GET / on the express hello server, keep-alive; rejects unless 200. */
export class HelloClient {
  constructor(port, maxSockets = 8) {
    this.port = port;
    this.agent = new Agent({ keepAlive: true, maxSockets });
  }

  get() {
    return new Promise((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: this.port, path: '/', agent: this.agent },
        (res) => {
          res.resume();
          res.on('end', () =>
            res.statusCode === 200 ? resolve() : reject(new Error(`hello: HTTP ${res.statusCode}`)),
          );
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  close() {
    this.agent.destroy();
  }
}
