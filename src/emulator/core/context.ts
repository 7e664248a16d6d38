/**
 * Per-request context carried with AsyncLocalStorage, so anything emitted while a request is
 * being handled (events, ledger entries) can record `request.id` / `request.idempotency_key`.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export interface RequestInfo {
  id: string;
  idempotencyKey: string | null;
  account: string;
}

export const requestContext = new AsyncLocalStorage<RequestInfo>();

export function currentRequest(): RequestInfo | undefined {
  return requestContext.getStore();
}
