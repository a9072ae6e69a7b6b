/* global performance */
// The load generator of sso.login, on its own thread (like wrk beside the server): it posts the
// prepared SAMLResponses to the ACS with `workers` keep-alive clients until the time budget or
// the bodies run out, and reports how many it posted and how long it took.
import { Agent } from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';
import { postToAcs } from './lib/acs-post.js';

const { port, path, cookie, bodies, workers, seconds } = workerData;
const agent = new Agent({ keepAlive: true, maxSockets: workers });

const post = (body) => postToAcs(agent, port, path, body, cookie);

let next = 0;
const started = performance.now();
const deadline = started + seconds * 1000;
try {
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (performance.now() < deadline && next < bodies.length) await post(bodies[next++]);
    }),
  );
  parentPort.postMessage({ done: next, ms: performance.now() - started });
} catch (error) {
  parentPort.postMessage({ error: String(error) });
} finally {
  agent.destroy();
}
