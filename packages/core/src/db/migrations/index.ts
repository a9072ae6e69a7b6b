import type { Migration } from 'kysely';
import * as createDirectory from './202611230400_create_directory.js';
import * as addSamlSsoDetails from './202611230520_add_saml_sso_details.js';

/** Every migration, in order. Append only; a shipped migration never changes. */
export const migrations: Record<string, Migration> = {
  '202611230400_create_directory': createDirectory,
  '202611230520_add_saml_sso_details': addSamlSsoDetails,
};
