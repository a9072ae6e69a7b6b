// scim.group-patch: PATCH adding one member to a group of 10 and to a group of 100k (seeded),
// sequential requests, p50 of the big group beside the small one's.
/* global console */
import { interleavedLatency, round, sizeLabel } from '../lib/measure.js';
import { ScimClient } from './http-client.js';
import { seededUserIds } from './seed.js';

const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

export const addMemberBody = (userIds) => ({
  schemas: [PATCH_OP],
  Operations: [{ op: 'add', path: 'members', value: userIds.map((value) => ({ value })) }],
});

export async function benchGroupPatch({ env, scim, directories, report, samples, warmup }) {
  const { tenant, small, big } = directories.groups;
  const largestSize = directories.tenants[directories.tenants.length - 1].size;
  const perGroup = samples + warmup;
  // Users never in either group: those after the big group's members.
  const first = big.members + 1;
  if (first + 2 * perGroup - 1 > largestSize) throw new Error('not enough seeded users to add');
  const newcomers = await seededUserIds(env.pool, tenant.id, first, first + 2 * perGroup - 1);
  const client = new ScimClient(scim.port, tenant.slug, tenant.token, 1);
  const groups = [small, big];
  const problems = [];
  try {
    // one PATCH to each group in turn, so that load from elsewhere weighs on both alike
    const figures = await interleavedLatency(
      groups.map((group, offset) => async (k) => {
        const response = await client.patch(
          `/Groups/${group.id}`,
          addMemberBody([newcomers[offset * perGroup + k]]),
        );
        if (response.status !== 200 && response.status !== 204) {
          problems.push(`HTTP ${response.status}: ${JSON.stringify(response.body).slice(0, 200)}`);
        }
      }),
      { samples, warmup },
    );
    for (const [index, group] of groups.entries()) {
      const { rows } = await env.pool.query(
        'select count(*)::int as n from group_members where group_id = $1',
        [group.id],
      );
      const result = figures[index];
      console.log(
        `  scim.group-patch @ ${sizeLabel(group.members).padEnd(4)} p50 ${round(result.p50, 2)} ms  p95 ${round(result.p95, 2)} ms  max ${round(result.max, 1)} ms  (members now ${rows[0].n}, expected ${group.members + perGroup})`,
      );
    }
    if (problems.length > 0)
      console.log(`  !! ${problems.length} failed PATCHes, first: ${problems[0]}`);
    report(
      'scim.group-patch',
      figures[1].p50,
      'ms',
      figures[0].p50,
      `p50 @ ${small.members} members`,
      { max: 1.5 },
    );
  } finally {
    client.close();
  }
}
