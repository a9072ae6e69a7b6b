// TEMPORARY stand-in until feat/outbound merges (replaced by its deliveries.ts).
import type { Db } from '../db/transaction.js';
export async function enqueueDelivery(
  _db: Db,
  _delivery: { tenantId: string; kind: string; targetUrl: string; payload: unknown },
): Promise<void> {
  throw new Error('delivery queue not merged yet');
}
