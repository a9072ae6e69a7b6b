// TEMPORARY stand-in until feat/outbound merges (replaced by its deliveries.ts).
import type { Db } from '../db/transaction.js';
export async function enqueueDelivery(
  _db: Db,
  _delivery: { tenantId: string; kind: string; targetUrl: string; payload: unknown },
): Promise<void> {
  throw new Error('delivery queue not merged yet');
}
export interface PendingDelivery {
  id: string;
  tenantId: string;
  kind: string;
  targetUrl: string;
  payload: unknown;
  attempts: number;
  createdAt: Date;
}
export type DeliveryRenderer = (
  delivery: PendingDelivery,
) => Promise<{ headers: Record<string, string>; body: string }>;
