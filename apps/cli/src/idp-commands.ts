// `roster idp add|list|show|update|remove`: a tenant's SAML identity providers.
import { readFile, stat } from 'node:fs/promises';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { ADMIN_PATHS, fillPath } from '@roster/core/url-layouts';
import { CliError } from './client.js';
import { printFields, printJson, printTable, show } from './output.js';
import { collect } from './parse.js';

type Json = Record<string, unknown>;
type Api = <T>(method: string, route: string, body?: unknown) => Promise<T>;

/** Same limit as the server's (MAX_IDP_METADATA_BYTES): checked here to fail before sending. */
const MAX_METADATA_FILE_BYTES = 512 * 1024;
const PRESETS = ['okta', 'entra', 'onelogin', 'google', 'jumpcloud'];
const FIELDS = ['userName', 'email', 'displayName', 'givenName', 'familyName'];
/** What `idp add --json` prints: the SP's values an IdP admin needs. */
const SP_KEYS = [
  'id',
  'name',
  'entityId',
  'acsUrl',
  'loginUrl',
  'metadataUrl',
  'whoamiUrl',
  'logoutUrl',
];

interface IdpOptions {
  json?: boolean;
  metadata?: string;
  name?: string;
  jit?: string;
  match?: string;
  map?: string[];
  groupsAttribute?: string | false;
  preset?: string;
  allowIdpInitiated?: boolean;
  assertionSignatureOnly?: boolean;
  requireResponseSignature?: boolean;
}

/** `--metadata`: a URL the server fetches, or a local file read here (size-capped). */
async function metadataBody(value: string): Promise<Json> {
  if (/^https?:\/\//i.test(value)) return { metadataUrl: value };
  let size: number;
  try {
    size = (await stat(value)).size;
  } catch {
    throw new CliError(`cannot read the metadata file ${value}`);
  }
  if (size > MAX_METADATA_FILE_BYTES)
    throw new CliError(
      `the metadata file ${value} is larger than ${MAX_METADATA_FILE_BYTES} bytes`,
    );
  return { metadataXml: await readFile(value, 'utf8') };
}

function attributeMap(pairs: readonly string[] = []): Record<string, string> | undefined {
  if (pairs.length === 0) return undefined;
  const map: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    const field = pair.slice(0, at);
    if (at < 1 || at === pair.length - 1)
      throw new CliError(`--map takes <field>=<SAML attribute>, got "${pair}"`);
    if (!FIELDS.includes(field))
      throw new CliError(`--map: unknown field "${field}"; map one of ${FIELDS.join(', ')}`);
    map[field] = pair.slice(at + 1);
  }
  return map;
}

const oneOf = (allowed: readonly string[]) => (value: string) => {
  if (!allowed.includes(value))
    throw new InvalidArgumentError(`expected one of ${allowed.join(', ')}`);
  return value;
};

async function body(o: IdpOptions): Promise<Json> {
  if (o.assertionSignatureOnly && o.requireResponseSignature)
    throw new CliError('give either --assertion-signature-only or --require-response-signature');
  const map = attributeMap(o.map);
  return {
    ...(o.metadata ? await metadataBody(o.metadata) : {}),
    ...(o.name ? { name: o.name } : {}),
    ...(o.preset ? { preset: o.preset } : {}),
    ...(o.jit ? { jitPolicy: o.jit } : {}),
    ...(o.match ? { matchBy: o.match } : {}),
    ...(map ? { attributeMap: map } : {}),
    ...(o.groupsAttribute === false
      ? { groupsAttribute: null }
      : o.groupsAttribute
        ? { groupsAttribute: o.groupsAttribute }
        : {}),
    ...(o.allowIdpInitiated !== undefined ? { allowIdpInitiated: o.allowIdpInitiated } : {}),
    ...(o.assertionSignatureOnly ? { wantResponseSigned: false } : {}),
    ...(o.requireResponseSignature ? { wantResponseSigned: true } : {}),
  };
}

function settingsOptions(command: Command): Command {
  return command
    .option('--name <idp>', 'a name for the IdP (default: the preset, or the host of its entityID)')
    .addOption(
      new Option('--preset <idp>', 'attribute names and signing defaults of a known IdP').choices(
        PRESETS,
      ),
    )
    .option(
      '--jit <policy>',
      'unknown people signing in: create (default) or deny',
      oneOf(['create', 'deny']),
    )
    .option(
      '--match <key>',
      'match existing users by username (default), email, or both',
      oneOf(['username', 'email', 'both']),
    )
    .option(
      '--map <field=attribute>',
      `take a user field from a SAML attribute; fields: ${FIELDS.join(', ')} (repeatable)`,
      collect,
    )
    .option('--groups-attribute <name>', 'the attribute whose values are group names (JIT users)')
    .option(
      '--assertion-signature-only',
      'accept a Response whose assertion alone is signed (Entra ID default)',
    )
    .option('--json', 'print JSON only (for scripts)');
}

function printIdp(idp: Json): void {
  const own = idp.idp as Json;
  const certificates = (own.signingCertificates as Json[]).map(
    (c) => `${show(c.subject)} until ${show(c.notAfter)}`,
  );
  printFields({
    id: idp.id,
    name: idp.name,
    'IdP entity ID': own.entityId,
    'IdP sign-on URL': own.ssoUrl,
    'IdP logout URL': own.sloUrl,
    'IdP certificates': certificates,
    'ACS URL': idp.acsUrl,
    'SP entity ID': idp.entityId,
    'SP metadata URL': idp.metadataUrl,
    'login URL': idp.loginUrl,
    'whoami URL': idp.whoamiUrl,
    'logout URL': idp.logoutUrl,
    'JIT policy': idp.jitPolicy,
    'match by': idp.matchBy,
    'attribute map': Object.entries(idp.attributeMap as Json).map(([k, v]) => `${k}=${show(v)}`),
    'groups attribute': idp.groupsAttribute,
    'IdP-initiated login': idp.allowIdpInitiated ? 'allowed' : 'refused',
    'Response signature': idp.wantResponseSigned ? 'required' : 'assertion signature suffices',
  });
}

export function addIdpCommands(program: Command, api: Api): void {
  const idp = program
    .command('idp')
    .description("add, list, show, update and remove a tenant's SAML identity providers");

  settingsOptions(
    idp
      .command('add <tenant>')
      .description('add an IdP from its metadata; prints what to paste into the IdP')
      .requiredOption('--metadata <file|url>', 'the IdP metadata XML file, or its URL'),
  )
    .option('--allow-idp-initiated', 'accept sign-ins started at the IdP (off by default)')
    .action(async (slug: string, o: IdpOptions) => {
      const added = await api<Json>('POST', fillPath(ADMIN_PATHS.idps, { slug }), await body(o));
      if (o.json) return printJson(Object.fromEntries(SP_KEYS.map((key) => [key, added[key]])));
      process.stdout.write(
        `Added IdP ${show(added.name)} (${show(added.id)}) to tenant ${slug}.\n\nIn the IdP's application settings, paste:\n  Single sign-on URL / Reply URL (ACS):  ${show(added.acsUrl)}\n  Audience URI / Identifier (Entity ID): ${show(added.entityId)}\n  (or give it the SP metadata URL:       ${show(added.metadataUrl)})\n\nSign-in link for people:  ${show(added.loginUrl)}?returnTo=<your app page>\nApps ask who is signed in: ${show(added.whoamiUrl)}\nSign-out:                  ${show(added.logoutUrl)}\n`,
      );
    });

  idp
    .command('list <tenant>')
    .description("list a tenant's IdPs")
    .option('--json', 'print JSON only (for scripts)')
    .action(async (slug: string, o: IdpOptions) => {
      const { idps } = await api<{ idps: Json[] }>('GET', fillPath(ADMIN_PATHS.idps, { slug }));
      if (o.json) return printJson(idps);
      printTable(
        idps.map((i) => ({ ...i, idpEntityId: (i.idp as Json).entityId })),
        ['name', 'id', 'idpEntityId', 'jitPolicy', 'matchBy', 'allowIdpInitiated'],
      );
    });

  idp
    .command('show <tenant> <idp>')
    .description('show an IdP (by name or id): its settings and the SP values')
    .option('--json', 'print JSON only (for scripts)')
    .action(async (slug: string, ref: string, o: IdpOptions) => {
      const found = await api<Json>('GET', fillPath(ADMIN_PATHS.idp, { slug, idp: ref }));
      if (o.json) return printJson(found);
      printIdp(found);
    });

  settingsOptions(
    idp
      .command('update <tenant> <idp>')
      .description('change an IdP; --metadata re-reads its certificates and URLs (rotation)')
      .option('--metadata <file|url>', 'fresh IdP metadata XML file, or its URL'),
  )
    .option('--allow-idp-initiated', 'accept sign-ins started at the IdP')
    .option('--no-allow-idp-initiated', 'refuse sign-ins started at the IdP')
    .option('--no-groups-attribute', 'stop taking group memberships from assertions')
    .option('--require-response-signature', 'require the Response to be signed too')
    .action(async (slug: string, ref: string, o: IdpOptions) => {
      const change = await body(o);
      if (Object.keys(change).length === 0)
        throw new CliError('nothing to change: give --metadata or a setting to change');
      const updated = await api<Json>(
        'PATCH',
        fillPath(ADMIN_PATHS.idp, { slug, idp: ref }),
        change,
      );
      if (o.json) return printJson(updated);
      printIdp(updated);
    });

  idp
    .command('remove <tenant> <idp>')
    .description('remove an IdP: its NameID links go, its sessions end, the users stay')
    .option('--json', 'print JSON only (for scripts)')
    .action(async (slug: string, ref: string, o: IdpOptions) => {
      const removed = await api<Json>('DELETE', fillPath(ADMIN_PATHS.idp, { slug, idp: ref }));
      if (o.json) return printJson(removed);
      process.stdout.write(
        `Removed IdP ${show((removed.removed as Json).name)}; ended ${show(removed.sessionsEnded)} session(s), removed ${show(removed.linksRemoved)} link(s).\n`,
      );
    });
}
