export { createScimApp, MAX_SCIM_PAYLOAD_BYTES, type ScimAppDeps } from './app.js';
