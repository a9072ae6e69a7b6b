// scim.create.scale: POST /Users on one tenant from 8 keep-alive clients, against two SCIM
// processes (child processes, each createScimApp on its own port, 4 clients each on average)
// beside one SCIM process taking all 8, both on the same PostgreSQL database, in alternating
// slices. Prints where the CPU went, since on a 2-core machine the load generator, the server
// processes and PostgreSQL share the same two cores.
/* global console, process */
import { availableParallelism } from 'node:os';
import { pairedRates, round } from '../lib/measure.js';
import { machineCpu, startAppProcess } from '../lib/child-app.js';
import { createBenchTenant } from './environment.js';
import { newUserBody } from './create.js';
import { ScimClient } from './http-client.js';

const cpuMs = ({ user, system }) => (user + system) / 1000;

export async function benchCreateScale({ env, report, seconds, concurrency }) {
  const tenant = await createBenchTenant(env.database, 'scale');
  const one = await startAppProcess('scim', env.url);
  const two = [await startAppProcess('scim', env.url), await startAppProcess('scim', env.url)];
  const oneClient = new ScimClient(one.port, tenant.slug, tenant.token, concurrency);
  const twoClients = two.map(
    (child) => new ScimClient(child.port, tenant.slug, tenant.token, concurrency),
  );
  const counts = [0, 0];
  try {
    const before = {
      machine: machineCpu(),
      parent: process.cpuUsage(),
      one: (await one.stats()).cpu,
      two: await Promise.all(two.map(async (child) => (await child.stats()).cpu)),
    };
    const [oneRate, twoRate] = await pairedRates(
      [
        async (id) => {
          await oneClient.expect([201], 'POST', '/Users', newUserBody('s1', id));
          counts[0] += 1;
        },
        async (id) => {
          // alternating ids spread the 8 clients over both processes
          await twoClients[id % 2].expect([201], 'POST', '/Users', newUserBody('s2', id));
          counts[1] += 1;
        },
      ],
      { workers: concurrency, seconds },
    );
    const machine = machineCpu();
    const parentMs = cpuMs(process.cpuUsage(before.parent));
    const oneMs = cpuMs((await one.stats()).cpu) - cpuMs(before.one);
    const twoMs = (await Promise.all(two.map((child) => child.stats()))).reduce(
      (sum, { cpu }, index) => sum + cpuMs(cpu) - cpuMs(before.two[index]),
      0,
    );
    const creates = counts[0] + counts[1];
    const cores = availableParallelism();
    // The seconds each half ran (its slices together), and the cores its servers kept busy.
    const oneSeconds = counts[0] / oneRate;
    const twoSeconds = counts[1] / twoRate;
    const oneCores = oneMs / 1000 / oneSeconds;
    const twoCores = twoMs / 1000 / twoSeconds;
    console.log(
      `  scim.create.scale: CPU per create: server ${round(oneMs / counts[0], 2)} ms (1 process, ${round(oneCores, 2)} cores busy) / ${round(twoMs / counts[1], 2)} ms (2 processes, ${round(twoCores, 2)} cores busy together); load generator ${round(parentMs / creates, 2)} ms`,
    );
    if (machine !== null && before.machine !== null) {
      // /proc/stat counts in USER_HZ (100 per second on Linux)
      const busyMs = (machine.busy - before.machine.busy) * 10;
      const busyShare =
        (machine.busy - before.machine.busy) / (machine.total - before.machine.total);
      const restMs = Math.max(0, busyMs - parentMs - oneMs - twoMs);
      console.log(
        `  scim.create.scale: machine ${round(100 * busyShare)} % busy of ${cores} cores over both halves; PostgreSQL and the rest of the machine ${round(restMs / creates, 2)} ms per create`,
      );
      // In the two-process half: both servers, the load generator and PostgreSQL on the cores.
      const twoHalfCores = twoCores + (parentMs / creates + restMs / creates) * (twoRate / 1000);
      console.log(
        oneCores > 0.9
          ? `  scim.create.scale: one process is bound by its main thread (with GC threads it kept ${round(oneCores, 2)} cores busy); two processes use about ${round(twoHalfCores, 2)} of the ${cores} cores with the load generator and PostgreSQL, so ${twoHalfCores > 0.9 * cores ? `the ${cores} cores are the limit: a second process can only take CPU the first one left idle` : 'the rest is waiting (commits, the tenant row lock every create of the tenant takes)'}`
          : `  scim.create.scale: one process used ${round(oneCores, 2)} cores, not bound by its main thread: the limit is waiting (PostgreSQL commits, the tenant row lock every create of the tenant takes), not CPU`,
      );
    }
    report('scim.create.scale', twoRate, 'req/s', oneRate, '1 SCIM process, same 8 clients');
  } finally {
    oneClient.close();
    for (const client of twoClients) client.close();
    await Promise.all([one.stop(), ...two.map((child) => child.stop())]);
  }
}
