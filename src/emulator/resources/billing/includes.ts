/**
 * Includable fields: fields Stripe leaves out of an object unless `expand[]` names them, even
 * though they are not ids of other objects. The core's expansion only swaps ids for stored
 * objects, so billing routes pass their result through `applyIncludes` first.
 *
 *   invoice.confirmation_secret   {client_secret, type: 'payment_intent'} of the invoice's PaymentIntent
 *   invoice.payments              list of the invoice's InvoicePayments
 *
 * Paths may go through stored ids (`latest_invoice.confirmation_secret` on a subscription):
 * the object on the way is loaded here and the core expands the rest.
 */
import type Stripe from 'stripe';
import type { ParamValue } from '../../core/params.ts';
import type { Billing } from './context.ts';
import { invoiceInternal } from './invoices.ts';

type Node = Record<string, unknown>;

function isNode(v: unknown): v is Node {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

function includeInvoiceField(b: Billing, inv: Node, field: string): boolean {
  const id = String(inv.id);
  if (!b.invoices.get(id)) return false;
  if (field === 'confirmation_secret') {
    const piId = invoiceInternal(b, id).paymentIntent;
    const pi = piId ? b.pay.pis.get(piId) : undefined;
    const open = inv.status === 'open' || inv.status === 'uncollectible';
    inv.confirmation_secret =
      pi && open && pi.client_secret ? ({ client_secret: pi.client_secret, type: 'payment_intent' } satisfies Stripe.Invoice.ConfirmationSecret) : null;
    return true;
  }
  if (field === 'payments') {
    const payments = b.invoicePayments.list(undefined, (p) => p.invoice === id);
    inv.payments = {
      object: 'list',
      data: payments,
      has_more: false,
      url: `/v1/invoice_payments?invoice=${id}`,
    } satisfies Stripe.ApiList<Stripe.InvoicePayment>;
    return true;
  }
  return false;
}

function walk(b: Billing, node: unknown, segs: string[]): void {
  if (Array.isArray(node)) {
    for (const x of node) walk(b, x, segs);
    return;
  }
  if (!isNode(node) || segs.length === 0) return;
  const [head, ...rest] = segs;
  if (head === undefined) return;
  if (node.object === 'invoice') includeInvoiceField(b, node, head);
  let v = node[head];
  if (typeof v === 'string' && rest.length > 0) {
    const rec = b.core.store.getRecord(v);
    if (rec) {
      v = JSON.parse(JSON.stringify(rec.data)) as unknown;
      node[head] = v;
    }
  }
  if (rest.length > 0) walk(b, v, rest);
}

/** Add the includable fields named by `expand` to `result` (in place) and return it. */
export function applyIncludes<T>(b: Billing, result: T, expand: ParamValue | undefined): T {
  const paths = Array.isArray(expand) ? expand.filter((x): x is string => typeof x === 'string') : typeof expand === 'string' ? [expand] : [];
  for (const path of paths) walk(b, result, path.split('.'));
  return result;
}
