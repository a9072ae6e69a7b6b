export { createScimApp, MAX_SCIM_PAYLOAD_BYTES, scimBaseUrlOf, type ScimAppDeps } from './app.js';
