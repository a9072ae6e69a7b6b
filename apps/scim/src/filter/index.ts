export {
  attachValuePathSubAttributes,
  MAX_FILTER_COMPARISONS,
  MAX_FILTER_LENGTH,
  parseScimFilter,
} from './parse-filter.js';
export {
  canonicalPath,
  resolvePath,
  toAttributeRef,
  type ResolvedPath,
  type ResourceType,
} from './schema-attributes.js';
