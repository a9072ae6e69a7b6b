export { gettingStarted } from './getting-started.js';
export { loadServerConfig, serverConfigSchema, type ServerConfig } from './config.js';
