// `DATABASE_URL=… ROSTER_TENANT=acme npm start -w @roster/example-consumer`: logs one JSON line
// per change with the cursor to resume from (ROSTER_SINCE) and the size of the active set.
import { startActiveUsers } from './active-users.js';
import { loadConsumerConfig } from './config.js';

const config = loadConsumerConfig();
const service = await startActiveUsers({
  directory: { databaseUrl: config.databaseUrl, tenant: config.tenant },
  ...(config.since !== undefined ? { since: config.since } : {}),
  onApplied: ({ change, active, activeUsers }) => {
    console.log(
      JSON.stringify({
        kind: change.kind,
        user: change.entity.id,
        active,
        activeUsers,
        cursor: change.cursor,
      }),
    );
  },
});
console.log(JSON.stringify({ msg: 'following', tenant: config.tenant }));
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => void service.stop());
await service.done;
