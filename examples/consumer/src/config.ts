// The example's only reader of the environment.
export interface ConsumerConfig {
  readonly databaseUrl: string;
  readonly tenant: string;
  /** Resume after this cursor (what the last run logged); absent: from the start. */
  readonly since: string | undefined;
}

export function loadConsumerConfig(env: NodeJS.ProcessEnv = process.env): ConsumerConfig {
  const databaseUrl = env.DATABASE_URL;
  const tenant = env.ROSTER_TENANT;
  if (!databaseUrl || !tenant) {
    throw new Error('set DATABASE_URL (Roster’s PostgreSQL) and ROSTER_TENANT (a tenant’s slug)');
  }
  return { databaseUrl, tenant, since: env.ROSTER_SINCE || undefined };
}
