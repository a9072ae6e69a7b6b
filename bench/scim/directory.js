// The seeded directories the read benchmarks run against: one tenant per size, and in the
// largest one a small and a big group.
/* global console */
import { sizeLabel } from '../lib/measure.js';
import { createBenchTenant } from './environment.js';
import { seedGroup, seedUsers, vacuumAnalyze } from './seed.js';

/**
 * Seeds a tenant of each size (users 1..size) and, in the largest, group "small" (users 1..10)
 * and group "big" (users 1..bigGroup). Prints how long each step took.
 */
export async function seedDirectories(env, { sizes, bigGroup, smallGroup = 10 }) {
  const tenants = [];
  for (const size of sizes) {
    const tenant = await createBenchTenant(env.database, sizeLabel(size));
    const seconds = await seedUsers(env.pool, tenant.id, size, sizeLabel(size));
    console.log(
      `seeded ${sizeLabel(size)} users in ${seconds.toFixed(1)} s (${Math.round(size / seconds).toLocaleString('en')} users/s, with one email each)`,
    );
    tenants.push({ size, tenant });
  }
  const largest = tenants[tenants.length - 1];
  const small = await seedGroup(env.pool, largest.tenant.id, 'bench-small', 1, smallGroup);
  const big = await seedGroup(env.pool, largest.tenant.id, 'bench-big', 1, bigGroup);
  console.log(
    `seeded groups of ${smallGroup} and ${sizeLabel(bigGroup)} members in the ${sizeLabel(largest.size)} tenant in ${(small.seconds + big.seconds).toFixed(1)} s`,
  );
  const vacuumSeconds = await vacuumAnalyze(env.pool);
  console.log(`vacuum analyze: ${vacuumSeconds.toFixed(1)} s`);
  return {
    tenants,
    groups: {
      tenant: largest.tenant,
      small: { id: small.id, members: smallGroup },
      big: { id: big.id, members: bigGroup },
    },
  };
}
