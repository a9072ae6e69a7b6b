// `roster events-token create|list|revoke`: a tenant's read-only credentials for the events API
// (GET /v1/tenants/:slug/events), for an app that follows the tenant's events without the
// admin token.
import type { Command } from 'commander';
import { ADMIN_PATHS, fillPath } from '@roster/core/url-layouts';
import { printJson, printTable, show } from './output.js';
import { lifetimeInDays } from './parse.js';

type Json = Record<string, unknown>;
type Api = <T>(method: string, route: string, body?: unknown) => Promise<T>;

interface EventsTokenOptions {
  json?: boolean;
  expiresIn?: number;
  description?: string;
}

export function addEventsTokenCommands(program: Command, api: Api): void {
  const eventsToken = program
    .command('events-token')
    .description("issue, list and revoke a tenant's read-only events API tokens");

  eventsToken
    .command('create <tenant>')
    .description("issue a token that reads the tenant's events and nothing else (shown once)")
    .option(
      '--expires-in <duration>',
      'lifetime, like 90d or 12w (default: no expiry)',
      lifetimeInDays,
    )
    .option('--description <text>', 'a note to recognise the token by (e.g. the app using it)')
    .option('--json', 'print JSON only: {"id","token"}')
    .action(async (slug: string, o: EventsTokenOptions) => {
      const issued = await api<Json>('POST', fillPath(ADMIN_PATHS.eventsTokens, { slug }), {
        ...(o.expiresIn ? { expiresInDays: o.expiresIn } : {}),
        ...(o.description ? { description: o.description } : {}),
      });
      if (o.json) return printJson({ id: issued.id, token: issued.token });
      process.stdout.write(
        `Token:     ${show(issued.token)}\nToken id:  ${show(issued.id)}\nExpires:   ${issued.expiresAt ? show(issued.expiresAt) : 'never'}\nReads:     GET /v1/tenants/${slug}/events on the admin API (Authorization: Bearer <token>)\n\nThe token is shown only now: store it with the app that reads the events.\n`,
      );
    });

  eventsToken
    .command('list <tenant>')
    .description("list a tenant's events tokens with their last use (never their secrets)")
    .option('--json', 'print JSON only (for scripts)')
    .action(async (slug: string, o: EventsTokenOptions) => {
      const { tokens } = await api<{ tokens: Json[] }>(
        'GET',
        fillPath(ADMIN_PATHS.eventsTokens, { slug }),
      );
      if (o.json) return printJson(tokens);
      printTable(tokens, ['id', 'status', 'createdAt', 'expiresAt', 'lastUsedAt', 'description']);
    });

  eventsToken
    .command('revoke <tenant> <id>')
    .description('revoke an events token at once')
    .option('--json', 'print JSON only (for scripts)')
    .action(async (slug: string, id: string, o: EventsTokenOptions) => {
      const revoked = await api<Json>('DELETE', fillPath(ADMIN_PATHS.eventsToken, { slug, id }));
      if (o.json) return printJson(revoked);
      process.stdout.write(`Revoked events token ${id}.\n`);
    });
}
