export { createExampleApp, discoverRoster, PATHS, type ExampleAppOptions } from './app.js';
export { loadAppConfig, type AppConfig } from './config.js';
export {
  BACKCHANNEL_LOGOUT_EVENT,
  InvalidLogoutToken,
  verifyLogoutToken,
  type LogoutTarget,
} from './logout-token.js';
export { SessionStore, type SignedInUser } from './sessions.js';
