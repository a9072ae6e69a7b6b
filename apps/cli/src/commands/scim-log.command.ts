import { InvalidArgumentError, Option, type Command } from 'commander';
import { ADMIN_PATHS, fillPath } from '@roster/core/url-layouts';
import { printJson, printTable, show } from '../output.js';
import { sinceInstant, wholeNumber } from '../parse.js';

type Json = Record<string, unknown>;
type Api = <T>(method: string, route: string, body?: unknown) => Promise<T>;

/** Largest --limit; the admin API's own maximum (MAX_SCIM_LOG_ENTRIES in @roster/core). */
const MAX_LIMIT = 500;
/** Longest error detail shown on a line; --json has it whole. */
const MAX_DETAIL_LENGTH = 120;
const SCIM_ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

/** `4xx` or `404`, as the admin API takes it. */
export function statusFilter(value: string): string {
  if (!/^([1-5]xx|[1-5]\d\d)$/i.test(value))
    throw new InvalidArgumentError('expected a status class like 4xx or a status like 404');
  return value.toLowerCase();
}

/** "uniqueness: userName is taken" from an RFC 7644 §3.12 error body; '' for anything else. */
export function scimErrorDetail(body: unknown): string {
  if (typeof body !== 'object' || body === null) return '';
  const error = body as Json;
  if (!Array.isArray(error.schemas) || !error.schemas.includes(SCIM_ERROR_SCHEMA)) return '';
  // The request id is in its own column: drop the copy sendScimError appends to the detail.
  const detail = show(error.detail).replace(/ \(request id [^)]*\)$/, '');
  const text = error.scimType ? `${show(error.scimType)}: ${detail}` : detail;
  return text.length > MAX_DETAIL_LENGTH ? `${text.slice(0, MAX_DETAIL_LENGTH - 1)}…` : text;
}

/** `roster scim-log <tenant>`: what the tenant's IdP sent and what it got back. */
export function addScimLogCommand(program: Command, api: Api): void {
  program
    .command('scim-log <tenant>')
    .description(
      "a tenant's SCIM requests and answers (bodies redacted), oldest first: why does the IdP retry?",
    )
    .option(
      '--since <when>',
      'ISO date-time, or a duration back from now like 30m, 1h or 2d',
      sinceInstant,
    )
    .option('--status <status>', 'only answers of this class (4xx) or status (404)', statusFilter)
    .option(
      `--limit <n>`,
      `at most this many, the newest (1-${MAX_LIMIT})`,
      wholeNumber(1, MAX_LIMIT),
    )
    .addOption(new Option('--json', 'print JSON only (for scripts), with the bodies'))
    .action(
      async (
        slug: string,
        o: { since?: string; status?: string; limit?: number; json?: boolean },
      ) => {
        const query = new URLSearchParams({
          ...(o.since ? { since: o.since } : {}),
          ...(o.status ? { status: o.status } : {}),
          ...(o.limit ? { limit: String(o.limit) } : {}),
        });
        const { entries } = await api<{ entries: Json[] }>(
          'GET',
          `${fillPath(ADMIN_PATHS.scimLog, { slug })}?${query.toString()}`,
        );
        if (o.json) return printJson(entries);
        printTable(
          entries.map((e) => ({
            ...e,
            duration: `${show(e.durationMs)}ms`,
            detail: scimErrorDetail(e.responseBody),
          })),
          ['occurredAt', 'method', 'path', 'status', 'duration', 'detail'],
        );
      },
    );
}
