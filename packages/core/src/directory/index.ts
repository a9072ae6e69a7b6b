// @roster/core/directory: the read API for the organisation's other apps (README "Use Roster
// from your app"). Small on purpose: everything here is a contract, nothing else is.
export {
  DEFAULT_DIRECTORY_POOL_MAX,
  DEFAULT_MEMBER_PAGE_SIZE,
  MAX_MEMBER_PAGE_SIZE,
  openDirectory,
  type Directory,
  type OpenDirectoryOptions,
  type TenantOption,
} from './directory.js';
export {
  isActive,
  type DirectoryEmail,
  type DirectoryGroup,
  type DirectoryGroupRef,
  type DirectoryMember,
  type DirectoryMemberPage,
  type DirectoryUser,
  type DirectoryUserState,
} from './read-models.js';
export {
  DEFAULT_CHANGE_BATCH_SIZE,
  DEFAULT_CHANGE_POLL_INTERVAL_MS,
  MAX_CHANGE_BATCH_SIZE,
  type ChangeFeedOptions,
  type DirectoryChange,
  type DirectoryChangeKind,
} from './change-feed.js';
export type { ChangeEntityType } from '../changes/outbox.js';
export type { EventType } from '../events/event.js';
export { CoreError, isCoreError, type CoreErrorCode } from '../errors.js';
