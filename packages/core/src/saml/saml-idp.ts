// A tenant's SAML identity provider as Roster keeps it, and the attribute-mapping presets.
import type { OutboundPolicy } from '../outbound/outbound-policy.js';
import { invalid } from '../errors.js';

/** The user fields an assertion's attributes may fill (for JIT users and matching). */
export const SAML_ATTRIBUTE_FIELDS = [
  'userName',
  'email',
  'displayName',
  'givenName',
  'familyName',
] as const;
export type SamlAttributeField = (typeof SAML_ATTRIBUTE_FIELDS)[number];
/** Field → SAML `Attribute@Name`. */
export type SamlAttributeMap = Partial<Record<SamlAttributeField, string>>;

export const JIT_POLICIES = ['create', 'deny'] as const;
export type JitPolicy = (typeof JIT_POLICIES)[number];
export const MATCH_BY = ['username', 'email', 'both'] as const;
export type MatchBy = (typeof MATCH_BY)[number];

export interface IdpPreset {
  readonly attributeMap: SamlAttributeMap;
  readonly groupsAttribute: string | null;
  /** False where the IdP signs only the assertion by default (still required to be signed). */
  readonly wantResponseSigned: boolean;
}

const ENTRA_CLAIMS = 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims';

/**
 * What each IdP sends by default (or is usually configured to send), so `--preset` is all most
 * operators need. NameID stays the userName unless a preset maps one.
 */
export const IDP_PRESETS = {
  // Okta SAML app: attribute statements firstName/lastName/email as set up in the app, and a
  // group attribute statement named "groups". Signs Response and Assertion when configured to.
  okta: {
    attributeMap: {
      email: 'email',
      givenName: 'firstName',
      familyName: 'lastName',
      displayName: 'displayName',
    },
    groupsAttribute: 'groups',
    wantResponseSigned: true,
  },
  // Entra ID enterprise app: claim URIs; NameID is the UPN. It signs only the assertion unless
  // the app is set to "Sign SAML response and assertion".
  entra: {
    attributeMap: {
      email: `${ENTRA_CLAIMS}/emailaddress`,
      givenName: `${ENTRA_CLAIMS}/givenname`,
      familyName: `${ENTRA_CLAIMS}/surname`,
      displayName: 'http://schemas.microsoft.com/identity/claims/displayname',
    },
    groupsAttribute: 'http://schemas.microsoft.com/ws/2008/06/identity/claims/groups',
    wantResponseSigned: false,
  },
  onelogin: {
    attributeMap: { email: 'User.email', givenName: 'User.FirstName', familyName: 'User.LastName' },
    groupsAttribute: 'memberOf',
    wantResponseSigned: true,
  },
  // Google Workspace custom SAML app: the attribute names are chosen in "Attribute mapping".
  google: {
    attributeMap: { email: 'email', givenName: 'firstName', familyName: 'lastName' },
    groupsAttribute: 'groups',
    wantResponseSigned: true,
  },
  jumpcloud: {
    attributeMap: { email: 'email', givenName: 'firstname', familyName: 'lastname' },
    groupsAttribute: 'memberOf',
    wantResponseSigned: true,
  },
} as const satisfies Record<string, IdpPreset>;
export type IdpPresetName = keyof typeof IDP_PRESETS;
export const IDP_PRESET_NAMES = Object.keys(IDP_PRESETS) as IdpPresetName[];

/** An identity provider of a tenant (README, "Single sign-on (SAML)"). */
export interface SamlIdp {
  readonly id: string;
  readonly tenantId: string;
  readonly name: string;
  readonly entityId: string;
  readonly ssoUrl: string;
  readonly sloUrl: string | null;
  /** PEM certificates whose signatures are accepted (several during a rotation). */
  readonly signingCertificates: readonly string[];
  /** Require a signature on the Response too (the assertion's is always required). */
  readonly wantResponseSigned: boolean;
  readonly jitPolicy: JitPolicy;
  readonly matchBy: MatchBy;
  readonly attributeMap: SamlAttributeMap;
  readonly groupsAttribute: string | null;
  readonly allowIdpInitiated: boolean;
  readonly metadataUrl: string | null;
  readonly version: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/**
 * Where the IdP's metadata comes from: the document itself, or a URL to fetch it from under the
 * outbound policy (ROSTER_OUTBOUND_ALLOW_HOSTS).
 */
export type IdpMetadataSource =
  { readonly xml: string } | { readonly url: string; readonly policy: OutboundPolicy };

/** Settings an operator chooses (all optional: a preset and the defaults fill the rest). */
export interface SamlIdpSettings {
  readonly name?: string;
  readonly preset?: IdpPresetName;
  readonly jitPolicy?: JitPolicy;
  readonly matchBy?: MatchBy;
  /** Merged over the preset's map. */
  readonly attributeMap?: SamlAttributeMap;
  /** null: no groups attribute (memberships untouched by sign-in). */
  readonly groupsAttribute?: string | null;
  readonly allowIdpInitiated?: boolean;
  readonly wantResponseSigned?: boolean;
}

export const IDP_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const MAX_SAML_ATTRIBUTE_NAME_LENGTH = 256;

export function assertValidIdpName(name: string): void {
  if (!IDP_NAME_PATTERN.test(name)) {
    throw invalid(
      `IdP name "${name.slice(0, 80)}" is not valid: use 1 to 64 letters, digits, dots, hyphens and underscores, starting with a letter or digit`,
      { field: 'name' },
    );
  }
}

/** Checks an attribute map (known fields, sane attribute names) and returns it. */
export function checkAttributeMap(map: Readonly<Record<string, unknown>>): SamlAttributeMap {
  const out: Partial<Record<SamlAttributeField, string>> = {};
  for (const [field, attribute] of Object.entries(map)) {
    if (!(SAML_ATTRIBUTE_FIELDS as readonly string[]).includes(field)) {
      throw invalid(
        `unknown attribute-map field "${field.slice(0, 80)}": map ${SAML_ATTRIBUTE_FIELDS.join(', ')}`,
        { field: 'attributeMap' },
      );
    }
    checkAttributeName(attribute, `attributeMap.${field}`);
    out[field as SamlAttributeField] = attribute;
  }
  return out;
}

export function checkAttributeName(value: unknown, field: string): asserts value is string {
  if (
    typeof value !== 'string' ||
    value.trim() === '' ||
    value.length > MAX_SAML_ATTRIBUTE_NAME_LENGTH ||
    [...value].some((c) => c.charCodeAt(0) < 0x20)
  ) {
    throw invalid(
      `${field} must be a SAML attribute name of 1 to ${MAX_SAML_ATTRIBUTE_NAME_LENGTH} characters`,
      { field },
    );
  }
}

/** A default IdP name: the preset, else the host of the entityID, else "idp". */
export function defaultIdpName(entityId: string, preset: IdpPresetName | undefined): string {
  if (preset) return preset;
  let host: string;
  try {
    host = new URL(entityId).hostname;
  } catch {
    host = '';
  }
  const name = host.replace(/[^A-Za-z0-9._-]/g, '').slice(0, 64);
  return IDP_NAME_PATTERN.test(name) ? name : 'idp';
}
