export { createTestDatabase, withAdminClient, withDatabase, type TestDatabase } from './test-db.js';
