/** With --json, only JSON goes to stdout, for scripts; otherwise a readable table or lines. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** A JSON value as one cell or field: '-' for nothing, lists joined. */
export function show(value: unknown): string {
  if (value === null || value === undefined || value === '') return '-';
  if (Array.isArray(value)) return value.length === 0 ? '-' : value.map(show).join(', ');
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return value.toString();
  return JSON.stringify(value) ?? '-';
}

/** What a person reads for each field the admin API answers with. */
const LABELS: Readonly<Record<string, string>> = {
  id: 'ID',
  slug: 'Slug',
  name: 'Name',
  scimBaseUrl: 'SCIM base URL',
  gracePeriodDays: 'Grace period (days)',
  cleanupAfterDays: 'Cleanup after (days)',
  allowedOrigins: 'Allowed origins',
  createdAt: 'Created',
  updatedAt: 'Updated',
  expiresAt: 'Expires',
  lastUsedAt: 'Last used',
  revokedAt: 'Revoked',
  userName: 'User name',
  externalId: 'External ID',
  displayName: 'Display name',
  managedBy: 'Managed by',
  lastSignInAt: 'Last sign-in',
  purgeAfter: 'Purge after',
  occurredAt: 'When',
  requestId: 'Request ID',
  idpEntityId: 'IdP entity ID',
  jitPolicy: 'JIT policy',
  matchBy: 'Match by',
  allowIdpInitiated: 'IdP-initiated sign-in',
  clientId: 'Client ID',
  redirectUris: 'Redirect URIs',
  kid: 'Key ID',
  promotedAt: 'Signing since',
  retiredAt: 'Retired',
};

/**
 * The label of a field: its entry in {@link LABELS}, else its camelCase name as words
 * ("tokenId" becomes "Token id"); a label already in words is kept.
 */
export function labelOf(field: string): string {
  const known = LABELS[field];
  if (known) return known;
  if (!/^[a-z][A-Za-z]*$/.test(field)) return field;
  const words = field.replace(/([A-Z])/g, ' $1').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export function printTable(
  rows: readonly Record<string, unknown>[],
  columns: readonly string[],
): void {
  if (rows.length === 0) {
    process.stdout.write('(none)\n');
    return;
  }
  const cell = show;
  const headers = columns.map(labelOf);
  const widths = columns.map((column, i) =>
    Math.max(headers[i]?.length ?? 0, ...rows.map((row) => cell(row[column]).length)),
  );
  const line = (values: string[]) =>
    values
      .map((value, i) => value.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  process.stdout.write(`${line(headers)}\n`);
  for (const row of rows)
    process.stdout.write(`${line(columns.map((column) => cell(row[column])))}\n`);
}

export function printFields(record: Record<string, unknown>): void {
  const fields = Object.entries(record).map(([key, value]) => [labelOf(key), value] as const);
  const width = Math.max(...fields.map(([label]) => label.length));
  for (const [label, value] of fields) {
    process.stdout.write(`${label.padEnd(width)}  ${show(value)}\n`);
  }
}
