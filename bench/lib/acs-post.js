/* global Buffer */
// One SAMLResponse posted to an ACS over keep-alive HTTP; a sign-in succeeds with 303.
import { request } from 'node:http';

/** Posts a form-encoded `body` to the ACS at `path`; resolves on 303, rejects on anything else. */
export function postToAcs(agent, port, path, body, cookie) {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': Buffer.byteLength(body),
          cookie,
        },
      },
      (res) => {
        res.resume();
        res.on('end', () =>
          res.statusCode === 303 ? resolve() : reject(new Error(`ACS answered ${res.statusCode}`)),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
