/* global Buffer, performance, URL, URLSearchParams */
// The load generator of oidc.login and oidc.token, one of several worker threads (like wrk beside
// the server): each runs `clients` closed loops over keep-alive HTTP, every iteration a fresh
// browser (its own cookie jar). It also plays the IdP, so it signs each SAMLResponse itself, for
// the SAML-only sign-in and the OpenID Connect one alike. It answers the parent's messages:
//
// - { mode: 'saml' }: SP-initiated sign-in: login → the IdP's signed response → ACS → 303.
// - { mode: 'oidc' }: authorize (code, PKCE S256, state, nonce) → interaction → SAML login →
//   the IdP's signed response → ACS → resume → the app's callback with a code → token exchange.
// - { mode: 'codes' }: the same flow up to the code, which it hands back instead of exchanging.
// - { mode: 'token', items }: one token exchange per prepared code.
// - { mode: 'hello' }: GET / from the express hello (the reference of oidc.token).
//
// Each run lasts `seconds` or `limit` iterations, whichever ends first, and answers
// { done, ms, codes? } (or { error }: a wrong answer stops the figure).
import { createHash, randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';
import { TestIdp, toPostBinding } from '@roster/sso/testing';

const { port, helloPort, baseUrl, idpKeys, idpEntityId, groups, clients, thread, threads, users } =
  workerData;
const { loginUrl, authorizationEndpoint, tokenEndpoint, clientId, clientSecret, redirectUri } =
  workerData;
const idp = new TestIdp(idpKeys, { entityId: idpEntityId });
const origin = new URL(baseUrl).origin;
const host = new URL(baseUrl).host;
const agent = new Agent({ keepAlive: true, maxSockets: clients });
const basicAuth = `Basic ${Buffer.from(
  `${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`,
).toString('base64')}`;

/** A browser's cookies for the one SSO host, by path (RFC 6265 §5.1.4). */
class CookieJar {
  cookies = new Map(); // `${path} ${name}` → { name, value, path }

  header(pathname) {
    return [...this.cookies.values()]
      .filter(
        (c) =>
          pathname === c.path || pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`),
      )
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  keep(pathname, setCookie = []) {
    for (const line of setCookie) {
      const [pair = '', ...attributes] = line.split(';').map((part) => part.trim());
      const at = pair.indexOf('=');
      const name = pair.slice(0, at);
      const value = pair.slice(at + 1);
      const path =
        attributes.find((a) => a.toLowerCase().startsWith('path='))?.slice(5) ?? pathname;
      const expired =
        value === '' ||
        attributes.some((a) => /^expires=thu, 01 jan 1970/i.test(a) || /^max-age=0$/i.test(a));
      if (expired) this.cookies.delete(`${path} ${name}`);
      else this.cookies.set(`${path} ${name}`, { name, value, path });
    }
  }
}

/**
 * One request to the SSO app at `url` (on its public origin, sent to the loopback port with the
 * public Host), cookies from and to `jar`; resolves to { status, location, body }.
 */
function send(jar, url, { method = 'GET', form, headers = {}, target = port } = {}) {
  const { pathname, search } = new URL(url);
  const body = form === undefined ? undefined : new URLSearchParams(form).toString();
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: target,
        path: `${pathname}${search}`,
        method,
        agent,
        headers: {
          host,
          accept: 'text/html',
          ...(jar ? { cookie: jar.header(pathname) } : {}),
          ...(body === undefined
            ? {}
            : {
                'content-type': 'application/x-www-form-urlencoded',
                'content-length': Buffer.byteLength(body),
              }),
          ...headers,
        },
      },
      (res) => {
        jar?.keep(pathname, res.headers['set-cookie']);
        const chunks = [];
        res.on('data', (chunk) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode,
            location:
              res.headers.location === undefined
                ? undefined
                : new URL(res.headers.location, url).href,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Follows redirects while they stay on the SSO origin; returns where the browser leaves it. */
async function leaveSso(jar, url, init) {
  let answer = await send(jar, url, init);
  for (let hops = 0; hops < 10; hops++) {
    if (answer.status < 300 || answer.status >= 400 || !answer.location) {
      throw new Error(
        `${new URL(url).pathname} answered ${answer.status}: ${answer.body.slice(0, 200)}`,
      );
    }
    if (new URL(answer.location).origin !== origin) return answer.location;
    url = answer.location;
    answer = await send(jar, url);
  }
  throw new Error('too many redirects');
}

/** The IdP's side: reads the AuthnRequest, signs a response for `user`; the ACS form post. */
async function idpAnswer(location, user) {
  if (!location.startsWith(idp.ssoUrl)) throw new Error(`sent to ${location}, not to the IdP`);
  const authnRequest = idp.readAuthnRequest(location);
  const nameId = `returning-${user}@example.com`;
  const { xml } = await idp.response({
    acsUrl: authnRequest.acsUrl,
    audience: authnRequest.issuer,
    inResponseTo: authnRequest.id,
    nameId,
    attributes: { email: nameId, firstName: 'Bench', lastName: `User ${user}`, groups },
  });
  return { acsUrl: authnRequest.acsUrl, form: { SAMLResponse: toPostBinding(xml) } };
}

/** SP-initiated SAML sign-in in a fresh browser, up to the ACS's 303. */
async function samlSignIn(user) {
  const jar = new CookieJar();
  const { acsUrl, form } = await idpAnswer(await leaveSso(jar, loginUrl), user);
  const answer = await send(jar, acsUrl, { method: 'POST', form });
  if (answer.status !== 303) throw new Error(`ACS answered ${answer.status}`);
}

const random = () => randomBytes(32).toString('base64url');

/** An app's authorization in a fresh browser, through the SAML sign-in, up to its code. */
async function authorizationCode(user) {
  const jar = new CookieJar();
  const verifier = random();
  const state = random();
  const nonce = random();
  const authorize = new URL(authorizationEndpoint);
  for (const [name, value] of Object.entries({
    client_id: clientId,
    redirect_uri: redirectUri,
    response_type: 'code',
    scope: 'openid email profile groups',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    state,
    nonce,
  }))
    authorize.searchParams.set(name, value);
  const { acsUrl, form } = await idpAnswer(await leaveSso(jar, authorize.href), user);
  const callback = new URL(await leaveSso(jar, acsUrl, { method: 'POST', form }));
  if (`${callback.origin}${callback.pathname}` !== redirectUri)
    throw new Error(`the flow ended at ${callback.href}, not at the app's callback`);
  if (callback.searchParams.get('state') !== state) throw new Error('state does not match');
  const code = callback.searchParams.get('code');
  if (!code) throw new Error(`no code: ${callback.search}`);
  return { code, verifier, nonce };
}

/** The app's back end redeems the code (client_secret_basic); checks the ID token's nonce. */
async function exchange({ code, verifier, nonce }) {
  const answer = await send(undefined, tokenEndpoint, {
    method: 'POST',
    form: {
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri,
      code_verifier: verifier,
    },
    headers: { authorization: basicAuth, accept: 'application/json' },
  });
  if (answer.status !== 200)
    throw new Error(`token endpoint answered ${answer.status}: ${answer.body}`);
  const idToken = JSON.parse(answer.body).id_token;
  const claims = JSON.parse(
    Buffer.from(String(idToken).split('.')[1] ?? '', 'base64url').toString(),
  );
  if (claims.nonce !== nonce) throw new Error('the ID token does not carry the nonce');
}

async function hello() {
  const answer = await send(undefined, `${origin}/`, { target: helloPort });
  if (answer.status !== 200) throw new Error(`hello answered ${answer.status}`);
}

let iteration = 0;
/** The next user of the shared population: the threads take turns through it. */
const nextUser = () => (iteration++ * threads + thread) % users;

async function run({ mode, seconds, limit = Infinity, items = [] }) {
  const codes = [];
  const step = {
    saml: () => samlSignIn(nextUser()),
    oidc: async () => exchange(await authorizationCode(nextUser())),
    codes: async () => codes.push(await authorizationCode(nextUser())),
    token: (i) => exchange(items[i]),
    hello: () => hello(),
  }[mode];
  const max = mode === 'token' ? Math.min(limit, items.length) : limit;
  let next = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < deadline && next < max) await step(next++);
    }),
  );
  return { done: next, ms: performance.now() - started, codes };
}

parentPort.on('message', async (message) => {
  if (message.mode === 'close') {
    agent.destroy();
    parentPort.close();
    return;
  }
  try {
    parentPort.postMessage(await run(message));
  } catch (error) {
    parentPort.postMessage({ error: String(error?.stack ?? error) });
  }
});
