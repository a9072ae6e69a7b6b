import { SCIM_PATHS } from '@roster/core';
import type { ServerConfig } from './config.js';

/** Printed once, on the first start on the embedded database. */
export function gettingStarted(options: {
  config: ServerConfig;
  adminUrl: string;
  tokenFile: string;
}): string {
  const { config } = options;
  return `
  Roster is running on the embedded database (${config.dataDir}).

    SCIM   ${config.scim.baseUrl}${SCIM_PATHS.tenantBase.replace(':tenant', '<tenant>')}
    SSO    ${config.sso.baseUrl}
    Admin  ${options.adminUrl}  (token generated and kept in ${options.tokenFile}, mode 0600)

  Next, in another terminal in this folder:

    npx roster tenant create acme
    npx roster token create acme          # a SCIM bearer token for your IdP

  The CLI finds this server and its admin token in ${config.dataDir} by itself.

`;
}
