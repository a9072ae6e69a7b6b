// oidc-provider, loaded without its one-line "Unsupported runtime" warning on Node 20: the warning
// is a check of the LTS codename only, and Roster runs the library on Node 20 by choice
// (docs/adr/0010-openid-provider-on-oidc-provider-9.md). Every other message of the library stays.
const UNSUPPORTED_RUNTIME = 'oidc-provider WARNING: Unsupported runtime.';
const warn = console.warn;
console.warn = (...args: unknown[]) => {
  if (typeof args[0] === 'string' && args[0].includes(UNSUPPORTED_RUNTIME)) return;
  warn(...args);
};
const library = await import('oidc-provider').finally(() => {
  console.warn = warn;
});

export const Provider = library.default;
export const { interactionPolicy, errors } = library;
export type {
  Adapter,
  AdapterPayload,
  Configuration,
  JWK,
  KoaContextWithOIDC,
  default as ProviderInstance,
} from 'oidc-provider';
