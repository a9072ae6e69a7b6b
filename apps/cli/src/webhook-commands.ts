// `roster webhook add|list|show|update|rotate-secret|disable|enable|remove|test|deliveries|replay`:
// a tenant's webhook endpoints, which receive its events in order, signed per the Standard
// Webhooks specification.
import { InvalidArgumentError, type Command } from 'commander';
import { ADMIN_PATHS, fillPath } from '@roster/core/url-layouts';
import { CliError } from './client.js';
import { printFields, printJson, printTable, show } from './output.js';
import { sinceInstant, wholeNumber } from './parse.js';

type Json = Record<string, unknown>;
type Api = <T>(method: string, route: string, body?: unknown) => Promise<T>;

/** What `webhook add --json` prints: what the receiver's configuration needs. */
const ISSUED_KEYS = ['id', 'url', 'secret'];
/** Most attempts `webhook deliveries` asks for (the admin API's own maximum). */
const MAX_DELIVERIES_LISTED = 1000;

interface WebhookOptions {
  json?: boolean;
  url?: string;
  events?: string[];
  format?: string;
  overlap?: number;
  limit?: number;
  before?: number;
  since?: string;
}

/** `user.*,group.created` to a list of patterns (what the server checks). */
export function eventPatterns(value: string): string[] {
  const patterns = value
    .split(',')
    .map((pattern) => pattern.trim())
    .filter((pattern) => pattern !== '');
  if (patterns.length === 0)
    throw new InvalidArgumentError('expected event types like user.*,group.created (or *)');
  return patterns;
}

/** `24h`, `90m`, `7d` or `0` (end the overlap now) to a number of minutes. */
export function overlapInMinutes(value: string): number {
  const match = /^(\d{1,6})([mhd]?)$/.exec(value);
  if (!match || (match[2] === '' && match[1] !== '0'))
    throw new InvalidArgumentError('expected a duration like 24h, 90m or 7d, or 0');
  return Number(match[1]) * { '': 1, m: 1, h: 60, d: 1440 }[match[2] as '' | 'm' | 'h' | 'd'];
}

/** An event id (`evt_…`) as is; a time or a duration back from now (24h, 7d) as a time. */
export function replayStart(value: string): string {
  return value.startsWith('evt_') ? value : sinceInstant(value);
}

const eventsOf = (webhook: Json) =>
  Array.isArray(webhook.events) && webhook.events.length > 0 ? webhook.events : 'every type';

function printWebhook(webhook: Json): void {
  printFields({
    id: webhook.id,
    URL: webhook.url,
    Events: eventsOf(webhook),
    Format: webhook.format,
    State:
      webhook.state === 'disabled' ? `disabled (${show(webhook.disabledReason)})` : webhook.state,
    'Last delivered': webhook.lastDeliveredAt,
    'Failing since': webhook.failingSince,
    'Next attempt': webhook.nextAttemptAt,
    'Old secret signs until': webhook.previousSecretExpiresAt,
    'Delivered through': webhook.deliveredThrough,
    createdAt: webhook.createdAt,
    updatedAt: webhook.updatedAt,
  });
}

/** The secret with the warning that it is not shown again. */
function printSecret(webhook: Json): void {
  process.stdout.write(
    `Webhook ID:      ${show(webhook.id)}\nURL:             ${show(webhook.url)}\nSigning secret:  ${show(webhook.secret)}\n\nThe signing secret is shown only now: store it with the receiver, which verifies each\nrequest's webhook-signature header with it; "roster webhook rotate-secret" issues a new one.\n`,
  );
}

const jsonOption = (command: Command) => command.option('--json', 'print JSON only (for scripts)');

export function addWebhookCommands(program: Command, api: Api): void {
  const webhook = program
    .command('webhook')
    .description("a tenant's webhooks: its events sent to a URL, in order, signed");
  const path = (slug: string, id: string) => fillPath(ADMIN_PATHS.webhook, { slug, id });

  jsonOption(
    webhook
      .command('add <tenant>')
      .description('add a webhook; it receives the events from now on (prints its secret once)')
      .requiredOption('--url <url>', 'where the events are POSTed (https)')
      .option(
        '--events <types>',
        'comma-separated event types or patterns, like user.*,group.created (default: every type)',
        eventPatterns,
      )
      .option('--format <format>', 'standard (JSON) or scim-events (RFC 9967 SETs)'),
  ).action(async (slug: string, o: WebhookOptions) => {
    const added = await api<Json>('POST', fillPath(ADMIN_PATHS.webhooks, { slug }), {
      url: o.url,
      ...(o.events ? { events: o.events } : {}),
      ...(o.format ? { format: o.format } : {}),
    });
    if (o.json) return printJson(Object.fromEntries(ISSUED_KEYS.map((key) => [key, added[key]])));
    process.stdout.write(
      `Added a webhook to tenant ${slug}: ${show(eventsOf(added))}, format ${show(added.format)}.\n\n`,
    );
    printSecret(added);
  });

  jsonOption(webhook.command('list <tenant>').description("list a tenant's webhooks")).action(
    async (slug: string, o: WebhookOptions) => {
      const { webhooks } = await api<{ webhooks: Json[] }>(
        'GET',
        fillPath(ADMIN_PATHS.webhooks, { slug }),
      );
      if (o.json) return printJson(webhooks);
      printTable(
        webhooks.map((w) => ({ ...w, events: eventsOf(w) })),
        ['id', 'url', 'events', 'format', 'state', 'lastDeliveredAt', 'failingSince'],
      );
    },
  );

  jsonOption(
    webhook
      .command('show <tenant> <id>')
      .description('show a webhook: its URL, types, state and progress (never its secret)'),
  ).action(async (slug: string, id: string, o: WebhookOptions) => {
    const found = await api<Json>('GET', path(slug, id));
    if (o.json) return printJson(found);
    printWebhook(found);
  });

  jsonOption(
    webhook
      .command('update <tenant> <id>')
      .description('change a webhook; what is not given stays')
      .option('--url <url>', 'the new URL (events not yet delivered go there)')
      .option(
        '--events <types>',
        'the event types, replacing the list (* for every type)',
        eventPatterns,
      )
      .option('--format <format>', 'standard or scim-events'),
  ).action(async (slug: string, id: string, o: WebhookOptions) => {
    const change = {
      ...(o.url !== undefined ? { url: o.url } : {}),
      ...(o.events ? { events: o.events } : {}),
      ...(o.format !== undefined ? { format: o.format } : {}),
    };
    if (Object.keys(change).length === 0)
      throw new CliError('nothing to change: give --url, --events or --format');
    const updated = await api<Json>('PATCH', path(slug, id), change);
    if (o.json) return printJson(updated);
    printWebhook(updated);
  });

  jsonOption(
    webhook
      .command('rotate-secret <tenant> <id>')
      .description('give a webhook a new signing secret; the old one signs beside it for a while')
      .option(
        '--overlap <duration>',
        'how long the old secret still signs beside the new one: 0 to 7d (default 24h)',
        overlapInMinutes,
      ),
  ).action(async (slug: string, id: string, o: WebhookOptions) => {
    const rotated = await api<Json>(
      'POST',
      fillPath(ADMIN_PATHS.webhookSecretRotation, { slug, id }),
      o.overlap !== undefined ? { overlapMinutes: o.overlap } : {},
    );
    if (o.json)
      return printJson(
        Object.fromEntries(
          [...ISSUED_KEYS, 'previousSecretExpiresAt'].map((key) => [key, rotated[key]]),
        ),
      );
    process.stdout.write(
      rotated.previousSecretExpiresAt
        ? `New signing secret. Until ${show(rotated.previousSecretExpiresAt)} every request carries two signatures, the old secret's and the new one's.\n\n`
        : 'New signing secret. The old one no longer signs.\n\n',
    );
    printSecret(rotated);
  });

  for (const [name, route, says] of [
    ['disable', ADMIN_PATHS.webhookDisable, 'stop sending; undelivered events wait'],
    ['enable', ADMIN_PATHS.webhookEnable, 'send again, from the first undelivered event on'],
  ] as const) {
    jsonOption(webhook.command(`${name} <tenant> <id>`).description(says)).action(
      async (slug: string, id: string, o: WebhookOptions) => {
        const changed = await api<Json>('POST', fillPath(route, { slug, id }));
        if (o.json) return printJson(changed);
        process.stdout.write(`Webhook ${id} is ${show(changed.state)}.\n`);
      },
    );
  }

  jsonOption(
    webhook
      .command('remove <tenant> <id>')
      .description('remove a webhook and its delivery log; nothing more is sent to it'),
  ).action(async (slug: string, id: string, o: WebhookOptions) => {
    const removed = await api<Json>('DELETE', path(slug, id));
    if (o.json) return printJson(removed);
    process.stdout.write(`Removed webhook ${id} (${show((removed.removed as Json).url)}).\n`);
  });

  jsonOption(
    webhook
      .command('test <tenant> <id>')
      .description('send the webhook a signed ping now; exits 1 unless it answers 2xx'),
  ).action(async (slug: string, id: string, o: WebhookOptions) => {
    const attempt = await api<Json>('POST', fillPath(ADMIN_PATHS.webhookTest, { slug, id }));
    const status = typeof attempt.status === 'number' ? attempt.status : null;
    const ok = status !== null && status >= 200 && status < 300;
    if (o.json) printJson(attempt);
    else
      process.stdout.write(
        `Ping ${show(attempt.eventId)}: ${status === null ? `no answer (${show(attempt.error)})` : `HTTP ${status}`} in ${show(attempt.latencyMs)} ms\n`,
      );
    if (!ok) throw new CliError('the webhook did not accept the ping');
  });

  jsonOption(
    webhook
      .command('deliveries <tenant> <id>')
      .description("a webhook's delivery log, newest first: each attempt, its answer and latency")
      .option(
        '--limit <n>',
        `at most this many (1-${MAX_DELIVERIES_LISTED})`,
        wholeNumber(1, MAX_DELIVERIES_LISTED),
      )
      .option(
        '--before <id>',
        'only attempts older than this attempt id (the next page)',
        wholeNumber(1, Number.MAX_SAFE_INTEGER),
      ),
  ).action(async (slug: string, id: string, o: WebhookOptions) => {
    const query = new URLSearchParams({
      ...(o.limit !== undefined ? { limit: String(o.limit) } : {}),
      ...(o.before !== undefined ? { before: String(o.before) } : {}),
    });
    const { deliveries } = await api<{ deliveries: Json[] }>(
      'GET',
      `${fillPath(ADMIN_PATHS.webhookDeliveries, { slug, id })}?${query.toString()}`,
    );
    if (o.json) return printJson(deliveries);
    printTable(deliveries, [
      'id',
      'attemptedAt',
      'eventId',
      'eventType',
      'attempt',
      'status',
      'latencyMs',
      'error',
    ]);
  });

  jsonOption(
    webhook
      .command('replay <tenant> <id>')
      .description('send the events again from an event or a time on, in order')
      .requiredOption(
        '--since <when>',
        'an event id (evt_...), an RFC 3339 time, or a duration back from now like 24h',
        replayStart,
      ),
  ).action(async (slug: string, id: string, o: WebhookOptions) => {
    const replayed = await api<Json>('POST', fillPath(ADMIN_PATHS.webhookReplay, { slug, id }), {
      since: o.since,
    });
    if (o.json) return printJson(replayed);
    process.stdout.write(
      `Webhook ${id} will receive the events from ${show(o.since)} on again, in order${replayed.state === 'disabled' ? ' once it is enabled' : ''}.\n`,
    );
  });
}
