export {
  createTestDatabase,
  dropDatabase,
  withAdminClient,
  withDatabase,
  type TestDatabase,
} from './test-db.js';
