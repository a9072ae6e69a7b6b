// `roster app add|list|show|update|remove|rotate-secret`: a tenant's apps (OpenID Connect
// clients); `roster oidc keys|rotate-keys`: the keys its OpenID Provider signs with.
import type { Command } from 'commander';
import { ADMIN_PATHS, fillPath } from '@roster/core/url-layouts';
import { CliError } from './client.js';
import { printFields, printJson, printTable, show } from './output.js';

type Json = Record<string, unknown>;
type Api = <T>(method: string, route: string, body?: unknown) => Promise<T>;

/** What `app add --json` and `app rotate-secret --json` print: what an app's config needs. */
const CLIENT_KEYS = ['clientId', 'clientSecret', 'issuer', 'discoveryUrl'];

interface AppOptions {
  json?: boolean;
  name?: string;
  redirectUri?: string[];
  postLogoutRedirectUri?: string[];
  clearPostLogoutRedirectUris?: boolean;
  public?: boolean;
  backchannelLogoutUri?: string | false;
}

function body(o: AppOptions): Json {
  if (o.clearPostLogoutRedirectUris && o.postLogoutRedirectUri)
    throw new CliError(
      'give either --post-logout-redirect-uri or --clear-post-logout-redirect-uris',
    );
  return {
    ...(o.name !== undefined ? { name: o.name } : {}),
    ...(o.redirectUri ? { redirectUris: o.redirectUri } : {}),
    ...(o.postLogoutRedirectUri ? { postLogoutRedirectUris: o.postLogoutRedirectUri } : {}),
    ...(o.clearPostLogoutRedirectUris ? { postLogoutRedirectUris: [] } : {}),
    ...(o.public ? { isPublic: true } : {}),
    ...(o.backchannelLogoutUri === false
      ? { backchannelLogoutUri: null }
      : o.backchannelLogoutUri !== undefined
        ? { backchannelLogoutUri: o.backchannelLogoutUri }
        : {}),
  };
}

/** The server's warnings (plain http off the local machine) go to stderr, even with --json. */
function warn(app: Json): void {
  for (const warning of (app.warnings as string[] | undefined) ?? [])
    process.stderr.write(`warning: ${warning}\n`);
}

function printApp(app: Json): void {
  printFields({
    'Client ID': app.clientId,
    name: app.name,
    Type: app.isPublic ? 'public (no secret; PKCE)' : 'confidential (client secret)',
    'Redirect URIs': app.redirectUris,
    'Post-logout redirect URIs': app.postLogoutRedirectUris,
    'Back-channel logout URI': app.backchannelLogoutUri,
    Issuer: app.issuer,
    'Discovery URL': app.discoveryUrl,
    'Secret rotated': app.secretRotatedAt,
    createdAt: app.createdAt,
    updatedAt: app.updatedAt,
  });
}

/** The client's settings, with the secret and the warning that it is not shown again. */
function printCredentials(app: Json): void {
  const secret =
    app.clientSecret === null
      ? '- (a public app: it uses PKCE instead)'
      : `${show(app.clientSecret)}\n  (shown once: store it now; "roster app rotate-secret" issues a new one)`;
  process.stdout.write(
    `Client ID:      ${show(app.clientId)}\nClient secret:  ${secret}\nIssuer:         ${show(app.issuer)}\nDiscovery URL:  ${show(app.discoveryUrl)}\n`,
  );
}

function uriOptions(command: Command): Command {
  return command
    .option('--name <name>', 'what operators and people call the app')
    .option('--redirect-uri <url...>', 'where sign-ins return, matched exactly (repeatable)')
    .option(
      '--post-logout-redirect-uri <url...>',
      'where the app may send people after signing out (repeatable)',
    )
    .option(
      '--backchannel-logout-uri <url>',
      'where Roster POSTs a logout token when a session ends',
    )
    .option('--json', 'print JSON only (for scripts)');
}

export function addAppCommands(program: Command, api: Api): void {
  const app = program
    .command('app')
    .description("register a tenant's apps (OpenID Connect clients) and manage their secrets");

  uriOptions(
    app
      .command('add <tenant>')
      .description('register an app; prints its client ID, secret (once) and issuer'),
  )
    .option('--public', 'a public client (SPA, native app): no secret, PKCE required')
    .action(async (slug: string, o: AppOptions) => {
      if (!o.name) throw new CliError('give the app a --name');
      if (!o.redirectUri) throw new CliError('give at least one --redirect-uri');
      const added = await api<Json>('POST', fillPath(ADMIN_PATHS.apps, { slug }), body(o));
      warn(added);
      if (o.json) return printJson(Object.fromEntries(CLIENT_KEYS.map((key) => [key, added[key]])));
      process.stdout.write(`Added app ${show(added.name)} to tenant ${slug}.\n\n`);
      printCredentials(added);
    });

  app
    .command('list <tenant>')
    .description("list a tenant's apps")
    .option('--json', 'print JSON only (for scripts)')
    .action(async (slug: string, o: AppOptions) => {
      const { apps } = await api<{ apps: Json[] }>('GET', fillPath(ADMIN_PATHS.apps, { slug }));
      if (o.json) return printJson(apps);
      printTable(
        apps.map((a) => ({ ...a, type: a.isPublic ? 'public' : 'confidential' })),
        ['clientId', 'name', 'type', 'redirectUris', 'createdAt'],
      );
    });

  app
    .command('show <tenant> <clientId>')
    .description('show an app: its URIs and its issuer (never its secret)')
    .option('--json', 'print JSON only (for scripts)')
    .action(async (slug: string, clientId: string, o: AppOptions) => {
      const found = await api<Json>('GET', fillPath(ADMIN_PATHS.app, { slug, clientId }));
      if (o.json) return printJson(found);
      printApp(found);
    });

  uriOptions(
    app
      .command('update <tenant> <clientId>')
      .description('change an app; each URI option replaces that whole list'),
  )
    .option('--clear-post-logout-redirect-uris', 'remove every post-logout redirect URI')
    .option('--no-backchannel-logout-uri', 'stop sending logout tokens to the app')
    .action(async (slug: string, clientId: string, o: AppOptions) => {
      const change = body(o);
      if (Object.keys(change).length === 0)
        throw new CliError('nothing to change: give --name or a URI option');
      const updated = await api<Json>(
        'PATCH',
        fillPath(ADMIN_PATHS.app, { slug, clientId }),
        change,
      );
      warn(updated);
      if (o.json) return printJson(updated);
      printApp(updated);
    });

  app
    .command('remove <tenant> <clientId>')
    .description('remove an app: its secret stops working at once')
    .option('--json', 'print JSON only (for scripts)')
    .action(async (slug: string, clientId: string, o: AppOptions) => {
      const removed = await api<Json>('DELETE', fillPath(ADMIN_PATHS.app, { slug, clientId }));
      if (o.json) return printJson(removed);
      const gone = removed.removed as Json;
      process.stdout.write(`Removed app ${show(gone.name)} (${show(gone.clientId)}).\n`);
    });

  app
    .command('rotate-secret <tenant> <clientId>')
    .description('give a confidential app a new secret; the old one stops working at once')
    .option('--json', 'print JSON only (for scripts)')
    .action(async (slug: string, clientId: string, o: AppOptions) => {
      const rotated = await api<Json>(
        'POST',
        fillPath(ADMIN_PATHS.appSecretRotation, { slug, clientId }),
      );
      if (o.json)
        return printJson(Object.fromEntries(CLIENT_KEYS.map((key) => [key, rotated[key]])));
      process.stdout.write(`New secret for app ${show(rotated.name)}.\n\n`);
      printCredentials(rotated);
    });
}

export function addOidcCommands(program: Command, api: Api): void {
  const oidc = program
    .command('oidc')
    .description("a tenant's OpenID Provider: the keys that sign its tokens");

  oidc
    .command('keys <tenant>')
    .description('list the signing keys: current (signs), next (published), retired')
    .option('--json', 'print JSON only (for scripts)')
    .action(async (slug: string, o: { json?: boolean }) => {
      const listed = await api<{ issuer: string; keys: Json[] }>(
        'GET',
        fillPath(ADMIN_PATHS.oidcKeys, { slug }),
      );
      if (o.json) return printJson(listed);
      if (listed.keys.length === 0) {
        process.stdout.write('(none yet: the first sign-in or rotation creates them)\n');
        return;
      }
      printTable(listed.keys, ['kid', 'status', 'createdAt', 'promotedAt', 'retiredAt']);
    });

  oidc
    .command('rotate-keys <tenant>')
    .description('retire the current key, sign with the next one, publish a new next one')
    .option('--json', 'print JSON only (for scripts)')
    .action(async (slug: string, o: { json?: boolean }) => {
      const rotated = await api<Json>('POST', fillPath(ADMIN_PATHS.oidcKeyRotation, { slug }));
      if (o.json) return printJson(rotated);
      process.stdout.write(
        `Rotated the signing keys of tenant ${slug}.\n  signing now: ${show(rotated.current)}\n  next:        ${show(rotated.next)}\n  retired:     ${show(rotated.retired)} (still published, to verify tokens already issued)\n`,
      );
    });
}
