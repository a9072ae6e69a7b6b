// `roster scim-client add|list|remove|rotate-secret`: a tenant's SCIM clients, which get
// short-lived access tokens for the tenant's SCIM endpoint by the OAuth 2.0 client credentials
// grant (what Microsoft Entra's provisioning asks for instead of a long-lived token).
import { InvalidArgumentError, type Command } from 'commander';
import { ADMIN_PATHS, fillPath } from '@roster/core/url-layouts';
import { printJson, printTable, show } from './output.js';

type Json = Record<string, unknown>;
type Api = <T>(method: string, route: string, body?: unknown) => Promise<T>;

/** What `scim-client add --json` and `rotate-secret --json` print: what an IdP's settings need. */
const CLIENT_KEYS = ['clientId', 'clientSecret', 'tokenUrl', 'audience'];

interface ScimClientOptions {
  json?: boolean;
  name?: string;
  tokenLifetime?: number;
}

/**
 * `60m`, `2h` or `90` (minutes) to a number of minutes. The allowed range (60-360) is the
 * server's to check, so its error names it.
 */
export function lifetimeInMinutes(value: string): number {
  const match = /^(\d{1,6})([mh]?)$/.exec(value);
  if (!match) throw new InvalidArgumentError('expected a duration like 60m or 2h');
  return Number(match[1]) * (match[2] === 'h' ? 60 : 1);
}

/** The client's settings, with the secret and the warning that it is not shown again. */
function printCredentials(client: Json): void {
  process.stdout.write(
    `Client ID:       ${show(client.clientId)}\nClient secret:   ${show(client.clientSecret)}\n  (shown once: store it now; "roster scim-client rotate-secret" issues a new one)\nToken endpoint:  ${show(client.tokenUrl)}\nSCIM URL:        ${show(client.audience)} (the tokens' audience)\nToken lifetime:  ${show(client.tokenLifetimeMinutes)} minutes\n`,
  );
}

const credentialsOf = (client: Json) =>
  Object.fromEntries(CLIENT_KEYS.map((key) => [key, client[key]]));

export function addScimClientCommands(program: Command, api: Api): void {
  const scimClient = program
    .command('scim-client')
    .description(
      "register a tenant's SCIM clients (OAuth 2.0 client credentials, e.g. Microsoft Entra)",
    );

  scimClient
    .command('add <tenant>')
    .description('register a SCIM client; prints its client ID, secret (once) and token URL')
    .requiredOption('--name <name>', 'what operators call the client (e.g. "Entra")')
    .option(
      '--token-lifetime <duration>',
      'how long each access token lives: 60m to 6h (default 60m)',
      lifetimeInMinutes,
    )
    .option('--json', 'print JSON only (for scripts)')
    .action(async (slug: string, o: ScimClientOptions) => {
      const added = await api<Json>('POST', fillPath(ADMIN_PATHS.scimClients, { slug }), {
        name: o.name,
        ...(o.tokenLifetime !== undefined ? { tokenLifetimeMinutes: o.tokenLifetime } : {}),
      });
      if (o.json) return printJson(credentialsOf(added));
      process.stdout.write(`Added SCIM client ${show(added.name)} to tenant ${slug}.\n\n`);
      printCredentials(added);
    });

  scimClient
    .command('list <tenant>')
    .description("list a tenant's SCIM clients (never their secrets)")
    .option('--json', 'print JSON only (for scripts)')
    .action(async (slug: string, o: ScimClientOptions) => {
      const { scimClients } = await api<{ scimClients: Json[] }>(
        'GET',
        fillPath(ADMIN_PATHS.scimClients, { slug }),
      );
      if (o.json) return printJson(scimClients);
      printTable(scimClients, ['clientId', 'name', 'tokenLifetimeMinutes', 'createdAt']);
    });

  scimClient
    .command('remove <tenant> <clientId>')
    .description('remove a SCIM client: its secret and its tokens stop working at once')
    .option('--json', 'print JSON only (for scripts)')
    .action(async (slug: string, clientId: string, o: ScimClientOptions) => {
      const removed = await api<Json>(
        'DELETE',
        fillPath(ADMIN_PATHS.scimClient, { slug, clientId }),
      );
      if (o.json) return printJson(removed);
      const gone = removed.removed as Json;
      process.stdout.write(`Removed SCIM client ${show(gone.name)} (${show(gone.clientId)}).\n`);
    });

  scimClient
    .command('rotate-secret <tenant> <clientId>')
    .description('give a SCIM client a new secret; the old one and its tokens stop working')
    .option('--json', 'print JSON only (for scripts)')
    .action(async (slug: string, clientId: string, o: ScimClientOptions) => {
      const rotated = await api<Json>(
        'POST',
        fillPath(ADMIN_PATHS.scimClientSecretRotation, { slug, clientId }),
      );
      if (o.json) return printJson(credentialsOf(rotated));
      process.stdout.write(`New secret for SCIM client ${show(rotated.name)}.\n\n`);
      printCredentials(rotated);
    });
}
