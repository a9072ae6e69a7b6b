export {
  startActiveUsers,
  type ActivePerson,
  type ActiveUsers,
  type ActiveUsersOptions,
  type Applied,
} from './active-users.js';
