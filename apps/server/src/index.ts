export { gettingStarted } from './getting-started.js';
