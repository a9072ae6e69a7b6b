export { createProgram } from './program.js';
export { CliError, resolveConnection, type AdminConnection } from './client.js';
