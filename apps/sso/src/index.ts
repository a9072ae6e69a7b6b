export { createSsoApp, type SsoAppDeps } from './app.js';
export { DEFAULT_SSO_SETTINGS, type SpKeyPair, type SsoSettings } from './saml/settings.js';
export { REFUSAL_REASONS, type RefusalReason } from './saml/refusals.js';
export { ssoConfigSchema, type SamlSettings, type SsoConfig } from './config.js';
