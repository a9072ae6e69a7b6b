// Directory search: filter AST, SQL push-down, cursors, member pages.
export * from './filter.js';
export {
  MAX_SEARCH_PAGE_SIZE,
  searchGroups,
  searchUsers,
  validateCursor,
} from './directory-search.js';
export type { SearchResource } from './compile-filter.js';
export { INVALID_CURSOR } from './cursor.js';
export {
  groupsOfUsers,
  listGroupMembers,
  MAX_MEMBER_PAGE_SIZE,
  type GroupMember,
} from '../groups/group-member.repository.js';
