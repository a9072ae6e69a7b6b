import './augment.js';
export {
  createBaseApp,
  finishApp,
  renderJsonError,
  type BaseAppOptions,
  type ErrorRenderer,
} from './app-base.js';
export { HttpError, STATUS_OF_CORE_ERROR, toPublicError, type PublicError } from './http-error.js';
export { refuseUnstorableJson } from './json-body.js';
export { createLifecycle, type Lifecycle } from './lifecycle.js';
export { createHttpMetrics, type HttpMetrics } from './metrics.js';
export { REQUEST_ID_HEADER, requestIdOf } from './request-id.js';
export {
  closeGracefully,
  exitOnSignals,
  listen,
  urlOf,
  type ShutdownPlan,
} from './server-lifecycle.js';
export { startRuntime, type Runtime } from './runtime.js';
export { runStandalone, type Placement } from './run-standalone.js';
