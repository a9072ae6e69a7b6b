export { createSsoApp, type SsoAppDeps } from './app.js';
