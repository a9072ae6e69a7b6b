// Concurrent SCIM writes, as several IdP connections (or one busy one) push them: each writer
// creates its users, renames them, makes a group, adds its users, removes one and deactivates
// another, over real HTTP. Every answer must be the one SCIM specifies.
import { GROUP_SCHEMA, PATCH_SCHEMA, scimUser, type ScimClient } from './journey-stack.js';

/** Writers working at once, as the webhook journeys and `events.latency` run them. */
export const CONCURRENT_SCIM_WRITERS = 8;

function expectStatus(
  answer: { status: number; text: string },
  allowed: number[],
  what: string,
): void {
  if (!allowed.includes(answer.status))
    throw new Error(`${what} answered ${answer.status}: ${answer.text.slice(0, 300)}`);
}

/**
 * Runs `writers` loops at once, each on the client `clientOf(writer)` (one SCIM process or
 * several), each creating and changing `usersPerWriter` users and one group. `label` keeps the
 * names of separate runs apart. Resolves once every request has its answer.
 */
export async function concurrentScimWrites(
  clientOf: (writer: number) => ScimClient,
  options: { label: string; usersPerWriter: number; writers?: number },
): Promise<void> {
  const writers = options.writers ?? CONCURRENT_SCIM_WRITERS;
  await Promise.all(
    Array.from({ length: writers }, async (_, writer) => {
      const scim = clientOf(writer);
      const ids: string[] = [];
      for (let i = 0; i < options.usersPerWriter; i++) {
        const userName = `${options.label}-w${writer}-u${i}@events.example`;
        const created = await scim.post('/Users', scimUser(userName));
        expectStatus(created, [201], `POST /Users ${userName}`);
        const id = String((created.body as { id: string }).id);
        ids.push(id);
        const renamed = await scim.patch(`/Users/${id}`, {
          schemas: [PATCH_SCHEMA],
          Operations: [{ op: 'replace', path: 'name.givenName', value: `Renamed ${i}` }],
        });
        expectStatus(renamed, [200, 204], `PATCH /Users/${id}`);
      }
      const group = await scim.post('/Groups', {
        schemas: [GROUP_SCHEMA],
        displayName: `${options.label} writer ${writer}`,
        members: [],
      });
      expectStatus(group, [201], 'POST /Groups');
      const groupId = String((group.body as { id: string }).id);
      const added = await scim.patch(`/Groups/${groupId}`, {
        schemas: [PATCH_SCHEMA],
        Operations: [{ op: 'add', path: 'members', value: ids.map((value) => ({ value })) }],
      });
      expectStatus(added, [200, 204], `PATCH /Groups/${groupId} add`);
      const [first, second] = ids;
      if (first !== undefined) {
        const removed = await scim.patch(`/Groups/${groupId}`, {
          schemas: [PATCH_SCHEMA],
          Operations: [{ op: 'remove', path: `members[value eq "${first}"]` }],
        });
        expectStatus(removed, [200, 204], `PATCH /Groups/${groupId} remove`);
      }
      if (second !== undefined) {
        const deactivated = await scim.patch(`/Users/${second}`, {
          schemas: [PATCH_SCHEMA],
          Operations: [{ op: 'replace', path: 'active', value: false }],
        });
        expectStatus(deactivated, [200, 204], `PATCH /Users/${second} active false`);
      }
    }),
  );
}
