export { gettingStarted } from './getting-started.js';
export { serverConfigSchema, type ServerConfig } from './config.js';
