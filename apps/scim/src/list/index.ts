export {
  CURSOR_TIMEOUT_SECONDS,
  DEFAULT_PAGE_SIZE,
  MAX_PAGE_SIZE,
  PAGINATION_CONFIG,
  parseListRequest,
  parseProjection,
  type ListRequest,
  type Projection,
} from './list-request.js';
