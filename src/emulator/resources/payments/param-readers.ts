/** Reading the payments routes' shared params (metadata, transfer_data). */
import { str, int, obj, mergeMetadata, type Params } from '../../core/params.ts';

export function metadataOf(params: Params, key = 'metadata'): Record<string, string> | undefined {
  const m = params[key];
  if (m === undefined) return undefined;
  return mergeMetadata({}, params, key);
}

export function transferDataOf(params: Params, key = 'transfer_data'): { destination?: string; amount?: number } | undefined {
  const td = obj(params, key);
  if (!td) return undefined;
  const out: { destination?: string; amount?: number } = {};
  const d = str(td, 'destination');
  const a = int(td, 'amount');
  if (d !== undefined) out.destination = d;
  if (a !== undefined) out.amount = a;
  return out;
}
