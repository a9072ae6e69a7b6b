export { createAdminApp, MAX_ADMIN_PAYLOAD_BYTES, type AdminAppDeps } from './app.js';
export { adminConfigSchema, type AdminConfig } from './config.js';
