import { Command, Option } from 'commander';
import { ADMIN_PATHS, fillPath } from '@roster/core/url-layouts';
import { callAdmin, resolveConnection } from './client.js';
import { addScimLogCommand } from './commands/scim-log.command.js';
import { addAppCommands, addOidcCommands } from './app-commands.js';
import { addIdpCommands } from './idp-commands.js';
import { addScimClientCommands } from './scim-client-commands.js';
import { addEventsTokenCommands } from './events-token-commands.js';
import { addWebhookCommands } from './webhook-commands.js';
import { printFields, printJson, printTable, show } from './output.js';
import { collect, daysOrOff, lifetimeInDays, sinceInstant, wholeNumber } from './parse.js';

type Json = Record<string, unknown>;
interface JsonOption {
  json?: boolean;
}

/** The `roster` command line: every command is one admin API call, and takes --json. */
export function createProgram(env: NodeJS.ProcessEnv): Command {
  const program = new Command('roster')
    .description('Operate a Roster server: tenants, SCIM tokens, users, apps, audit trail.')
    .showHelpAfterError()
    .addHelpText(
      'after',
      '\nServer: ROSTER_URL and ROSTER_ADMIN_TOKEN, or, when neither is set, the server started by\n"npm start" in this folder (found through ROSTER_DATA_DIR, default ./.roster).',
    );
  const api = async <T>(method: string, route: string, body?: unknown) =>
    callAdmin<T>(await resolveConnection(env), method, route, body);
  const json = () => new Option('--json', 'print JSON only (for scripts)');

  const settingsBody = (o: {
    graceDays?: number;
    cleanupAfterDays?: number | 'off';
    allowedOrigin?: string[];
    clearAllowedOrigins?: boolean;
  }) => ({
    ...(o.clearAllowedOrigins ? { allowedOrigins: [] } : {}),
    ...(o.graceDays !== undefined ? { gracePeriodDays: o.graceDays } : {}),
    ...(o.cleanupAfterDays !== undefined
      ? { cleanupAfterDays: o.cleanupAfterDays === 'off' ? null : o.cleanupAfterDays }
      : {}),
    ...(o.allowedOrigin !== undefined ? { allowedOrigins: o.allowedOrigin } : {}),
  });
  const showTenant = (tenant: Json, o: JsonOption) =>
    o.json ? printJson(tenant) : printFields(tenant);
  const settingsOptions = (command: Command) =>
    command
      .option(
        '--grace-days <n>',
        'days a deleted user is kept before purge (0-3650)',
        wholeNumber(0, 3650),
      )
      .option(
        '--cleanup-after-days <n|off>',
        'deactivate JIT users idle this many days, or off',
        daysOrOff,
      )
      .option(
        '--allowed-origin <url>',
        'origins a login may return to (repeatable; replaces the list)',
        collect,
      )
      .option('--clear-allowed-origins', 'empty the list of allowed origins');

  const tenant = program.command('tenant').description('create, list, show and configure tenants');
  settingsOptions(tenant.command('create <slug>').description('create a tenant'))
    .addOption(json())
    .action(async (slug: string, o: JsonOption & Parameters<typeof settingsBody>[0]) => {
      const created = await api<Json>('POST', ADMIN_PATHS.tenants, { slug, ...settingsBody(o) });
      if (o.json) return printJson(created);
      process.stdout.write(
        `Created tenant ${show(created.slug)}.\nSCIM base URL: ${show(created.scimBaseUrl)}\nNext: roster token create ${slug}\n`,
      );
    });
  tenant
    .command('list')
    .description('list tenants')
    .addOption(json())
    .action(async (o: JsonOption) => {
      const { tenants } = await api<{ tenants: Json[] }>('GET', ADMIN_PATHS.tenants);
      if (o.json) return printJson(tenants);
      printTable(tenants, ['slug', 'id', 'gracePeriodDays', 'cleanupAfterDays', 'scimBaseUrl']);
    });
  tenant
    .command('show <slug>')
    .description("show a tenant's settings")
    .addOption(json())
    .action(async (slug: string, o: JsonOption) =>
      showTenant(await api<Json>('GET', fillPath(ADMIN_PATHS.tenant, { slug })), o),
    );
  settingsOptions(tenant.command('set <slug>').description("change a tenant's settings"))
    .addOption(json())
    .action(async (slug: string, o: JsonOption & Parameters<typeof settingsBody>[0]) => {
      const body = settingsBody(o);
      if (o.clearAllowedOrigins && o.allowedOrigin)
        throw new Error('give either --allowed-origin or --clear-allowed-origins, not both');
      if (Object.keys(body).length === 0) {
        throw new Error(
          'nothing to change: give --grace-days, --cleanup-after-days, --allowed-origin or --clear-allowed-origins',
        );
      }
      showTenant(await api<Json>('PATCH', fillPath(ADMIN_PATHS.tenant, { slug }), body), o);
    });

  const token = program
    .command('token')
    .description("issue, list and revoke a tenant's SCIM bearer tokens");
  token
    .command('create <tenant>')
    .description('issue a SCIM token (shown once; several may be live, for rotation)')
    .option(
      '--expires-in <duration>',
      'lifetime, like 90d or 12w (default: no expiry)',
      lifetimeInDays,
    )
    .option('--description <text>', 'a note to recognise the token by')
    .addOption(json())
    .action(async (slug: string, o: JsonOption & { expiresIn?: number; description?: string }) => {
      const issued = await api<Json>('POST', fillPath(ADMIN_PATHS.scimTokens, { slug }), {
        ...(o.expiresIn ? { expiresInDays: o.expiresIn } : {}),
        ...(o.description ? { description: o.description } : {}),
      });
      if (o.json) return printJson(issued);
      process.stdout.write(
        `SCIM base URL: ${show(issued.scimBaseUrl)}\nToken:         ${show(issued.token)}\nToken id:      ${show(issued.id)}\nExpires:       ${issued.expiresAt ? show(issued.expiresAt) : 'never'}\n\nThe token is shown only now: paste it into your IdP's SCIM settings.\n`,
      );
    });
  token
    .command('list <tenant>')
    .description("list a tenant's tokens with their last use")
    .addOption(json())
    .action(async (slug: string, o: JsonOption) => {
      const { tokens } = await api<{ tokens: Json[] }>(
        'GET',
        fillPath(ADMIN_PATHS.scimTokens, { slug }),
      );
      if (o.json) return printJson(tokens);
      printTable(tokens, ['id', 'status', 'createdAt', 'expiresAt', 'lastUsedAt', 'description']);
    });
  token
    .command('revoke <tenant> <id>')
    .description('revoke a token at once')
    .addOption(json())
    .action(async (slug: string, id: string, o: JsonOption) => {
      const revoked = await api<Json>('DELETE', fillPath(ADMIN_PATHS.scimToken, { slug, id }));
      if (o.json) return printJson(revoked);
      process.stdout.write(`Revoked token ${id}.\n`);
    });

  program
    .command('users')
    .description("a tenant's users")
    .command('list <tenant>')
    .description('list users, oldest first')
    .option('--limit <n>', 'at most this many (1-10000)', wholeNumber(1, 10_000), 100)
    .addOption(json())
    .action(async (slug: string, o: JsonOption & { limit: number }) => {
      const users: Json[] = [];
      let after: string | undefined;
      do {
        const size = Math.min(1000, o.limit - users.length);
        const query = new URLSearchParams({ limit: String(size), ...(after ? { after } : {}) });
        const page = await api<{ users: Json[]; next?: string }>(
          'GET',
          `${fillPath(ADMIN_PATHS.users, { slug })}?${query.toString()}`,
        );
        users.push(...page.users);
        after = page.next;
      } while (after && users.length < o.limit);
      if (o.json) return printJson(users);
      printTable(users, ['id', 'userName', 'state', 'source', 'managedBy', 'lastSignInAt']);
    });

  program
    .command('audit <tenant>')
    .description("a tenant's audit trail, oldest first")
    .option(
      '--since <when>',
      'ISO date-time, or a duration back from now like 24h or 7d',
      sinceInstant,
    )
    .option('--user <id>', 'only events about this user id')
    .option('--limit <n>', 'at most this many (1-10000)', wholeNumber(1, 10_000))
    .addOption(json())
    .action(
      async (slug: string, o: JsonOption & { since?: string; user?: string; limit?: number }) => {
        const query = new URLSearchParams({
          ...(o.since ? { since: o.since } : {}),
          ...(o.user ? { user: o.user } : {}),
          ...(o.limit ? { limit: String(o.limit) } : {}),
        });
        const { events } = await api<{ events: Json[] }>(
          'GET',
          `${fillPath(ADMIN_PATHS.audit, { slug })}?${query.toString()}`,
        );
        if (o.json) return printJson(events);
        printTable(
          events.map((e) => ({
            ...e,
            actor: `${show((e.actor as Json).type)}:${show((e.actor as Json).id)}`,
            target: (e.target as Json).id,
          })),
          ['occurredAt', 'actor', 'action', 'target', 'requestId'],
        );
      },
    );

  program
    .command('purge')
    .description('deactivate dormant JIT users, then purge users whose grace period is over')
    .option('--tenant <slug>', 'only this tenant (default: every tenant)')
    .option('--dry-run', 'count the users that would be purged; change nothing')
    .addOption(json())
    .action(async (o: JsonOption & { tenant?: string; dryRun?: boolean }) => {
      const scope = o.tenant ? { tenant: o.tenant } : {};
      const progress = !o.json && process.stderr.isTTY;
      let purged = 0;
      let deactivated = 0;
      // One batch per call, so a terminal shows progress on large purges.
      for (;;) {
        const step = await api<{
          purged: number;
          remaining: number;
          deactivatedDormant: number;
          dryRun: boolean;
        }>('POST', ADMIN_PATHS.purge, {
          ...scope,
          ...(o.dryRun ? { dryRun: true } : { dryRun: false, maxUsers: 1000 }),
        });
        purged += step.purged;
        deactivated += step.deactivatedDormant;
        if (progress && step.remaining > 0)
          process.stderr.write(`\rpurged ${purged}, ${step.remaining} to go…`);
        if (step.dryRun || step.remaining === 0) break;
      }
      if (progress) process.stderr.write('\r\x1b[K');
      const summary = {
        purged,
        deactivatedDormant: deactivated,
        dryRun: Boolean(o.dryRun),
        ...scope,
      };
      if (o.json) return printJson(summary);
      process.stdout.write(
        o.dryRun
          ? `${purged} user(s) would be purged${o.tenant ? ` in ${o.tenant}` : ''}. Nothing was changed.\n`
          : `Purged ${purged} user(s); deactivated ${deactivated} dormant JIT user(s)${o.tenant ? ` in ${o.tenant}` : ''}.\n`,
      );
    });

  program
    .command('explain <tenant>')
    .description(
      'dry run of a sign-in: which user would match, by which key, and what would happen',
    )
    .requiredOption('--idp <idp>', 'the IdP, by name or id')
    .requiredOption('--name-id <id>', 'the NameID the assertion would carry')
    .option('--name-id-format <urn>', 'its format (a transient NameID never links)')
    .option(
      '--attr <key=value>',
      'a mapped attribute: userName, email, displayName, givenName, familyName (repeatable)',
      collect,
    )
    .addOption(json())
    .action(
      async (
        slug: string,
        o: JsonOption & { idp: string; nameId: string; nameIdFormat?: string; attr?: string[] },
      ) => {
        const attributes: Record<string, string> = {};
        for (const pair of o.attr ?? []) {
          const at = pair.indexOf('=');
          if (at < 1) throw new Error(`--attr takes key=value, got "${pair}"`);
          attributes[pair.slice(0, at)] = pair.slice(at + 1);
        }
        const explained = await api<Json>('POST', fillPath(ADMIN_PATHS.explain, { slug }), {
          idp: o.idp,
          nameId: o.nameId,
          ...(o.nameIdFormat ? { nameIdFormat: o.nameIdFormat } : {}),
          attributes,
        });
        if (o.json) return printJson(explained);
        const user = explained.user as Json | undefined;
        const who = user
          ? `${show(user.userName)} (${show(user.id)}, ${show(user.state)}, managed by ${show(user.managedBy)})`
          : '';
        const lines: Record<string, string> = {
          sign_in: `would sign in ${who}, matched by ${show(explained.matchedBy)}${explained.willLink ? ', and link this NameID' : ''}${explained.willRefresh ? ', refreshing its attributes from the assertion' : ''}`,
          create: `would create a new JIT user "${show(explained.userName)}"${explained.willLink ? ' and link this NameID' : ''}`,
          refuse: `would refuse: ${show(explained.reason)} (${show(explained.detail)})${who ? `; user ${who}` : ''}`,
        };
        process.stdout.write(`${lines[show(explained.outcome)] ?? show(explained.outcome)}\n`);
      },
    );

  addScimLogCommand(program, api);

  addIdpCommands(program, api);
  addAppCommands(program, api);
  addOidcCommands(program, api);
  addScimClientCommands(program, api);
  addEventsTokenCommands(program, api);
  addWebhookCommands(program, api);
  return program;
}
