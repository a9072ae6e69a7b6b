import SCIMMY from 'scimmy';

/**
 * scimmy's configuration is process-wide (shared/notes/libraries.md §A1), so it is set once,
 * identically for every tenant. It states only what this server really does: features are
 * switched on here as they are built, never before.
 */
let configured = false;
export function configureScimmy(): void {
  if (configured) return;
  // authenticationSchemes appends on every set(): reset it first.
  SCIMMY.Config.set({ authenticationSchemes: [] });
  SCIMMY.Config.set({
    documentationUri: 'https://github.com/roster-dev/roster#scim',
    patch: false,
    bulk: false,
    filter: false,
    sort: false,
    etag: false,
    changePassword: false,
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'OAuth Bearer Token',
        description:
          'A per-tenant token issued with `roster token create <tenant>`, sent as `Authorization: Bearer <token>`.',
        specUri: 'https://datatracker.ietf.org/doc/html/rfc6750',
        primary: true,
      },
    ],
  });
  configured = true;
}
