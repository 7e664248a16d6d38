// Editing the platform's fee policies (the pricing rule belongs to src/orders/fees.ts, the look-up
// to src/orders/queries.ts). An order copies its policy when it is placed, so every edit here
// affects new orders only. Each edit is one transaction with its audit entry (before and after).
import type { Kysely } from 'kysely';
import type { Database, FeePolicy } from '../db/schema.ts';
import { DomainError, found } from '../errors.ts';
import { formatMoney, minorUnitDigits, parseMoney } from '../money.ts';
import { findSeller } from '../sellers/queries.ts';
import { recordAudit, type Actor } from './audit.ts';

export interface PolicyInput {
  sellerId: string | null;
  currency: string | null;
  basisPoints: number;
  fixedAmount: number;
}

const view = (p: FeePolicy | undefined) =>
  p === undefined
    ? null
    : {
        seller_id: p.seller_id,
        currency: p.currency,
        basis_points: p.basis_points,
        fixed_amount: p.fixed_amount,
      };

/** The policy form as typed: currency '' = any currency; basis points and the fixed amount as text. */
export interface PolicyForm {
  currency: string;
  basisPoints: string;
  fixed?: string | undefined;
  /** The admin confirmed an unusually large fixed fee. */
  confirmLarge?: boolean | undefined;
}

/** Above this many major units a fixed fee needs confirming (100.00 $, ¥100 × 100…). */
const LARGE_FIXED_FEE_UNITS = 100;

/** The checks of a policy form; the policy, or a DomainError saying what to fix. */
export function parsePolicyForm(form: PolicyForm): Omit<PolicyInput, 'sellerId'> {
  const basisPoints = Number(form.basisPoints);
  if (!/^\d{1,5}$/.test(form.basisPoints) || basisPoints > 10_000) throw new DomainError('basis_points_out_of_range');
  const currency = form.currency === '' ? null : form.currency;
  const fixedText = (form.fixed ?? '').trim();
  if (currency === null) {
    if (fixedText !== '' && fixedText !== '0') throw new DomainError('fixed_fee_needs_currency');
    return { currency, basisPoints, fixedAmount: 0 };
  }
  if (fixedText === '') return { currency, basisPoints, fixedAmount: 0 };
  const parsed = parseMoney(fixedText, currency);
  if (!parsed.ok) throw new DomainError('fixed_fee_invalid', { reason: parsed.message });
  const large = parseMoney(String(minorUnitDigits(currency) === 0 ? LARGE_FIXED_FEE_UNITS * 100 : LARGE_FIXED_FEE_UNITS), currency);
  if (large.ok && parsed.amount > large.amount && form.confirmLarge !== true) {
    throw new DomainError('fixed_fee_unusually_large', { formatted: formatMoney(parsed.amount, currency) });
  }
  return { currency, basisPoints, fixedAmount: parsed.amount };
}

/** The platform's default for a currency (or any currency). */
export async function savePlatformPolicy(db: Kysely<Database>, actor: Actor, form: PolicyForm): Promise<FeePolicy> {
  return savePolicy(db, actor, { sellerId: null, ...parsePolicyForm(form) });
}

/** A seller's override (new orders only). */
export async function saveSellerPolicy(db: Kysely<Database>, actor: Actor, sellerId: string, form: PolicyForm): Promise<FeePolicy> {
  found(await findSeller(db, sellerId));
  return savePolicy(db, actor, { sellerId, ...parsePolicyForm(form) });
}

/** Removes a seller's override; another seller's policy id is not found here. */
export async function deleteSellerPolicy(db: Kysely<Database>, actor: Actor, sellerId: string, policyId: string): Promise<void> {
  const policy = await db.selectFrom('fee_policies').select('seller_id').where('id', '=', policyId).executeTakeFirst();
  if (policy === undefined || policy.seller_id !== sellerId) throw new DomainError('not_found');
  await deletePolicy(db, actor, policyId);
}

/** Every policy with its seller's name (the admin's fees page). */
export async function listPoliciesWithSellers(db: Kysely<Database>) {
  return db
    .selectFrom('fee_policies')
    .leftJoin('users', 'users.id', 'fee_policies.seller_id')
    .selectAll('fee_policies')
    .select('users.display_name as seller_name')
    .orderBy('fee_policies.seller_id', 'asc')
    .orderBy('fee_policies.currency', 'asc')
    .execute();
}

export async function listPolicies(db: Kysely<Database>, sellerId?: string | null): Promise<FeePolicy[]> {
  let query = db.selectFrom('fee_policies').selectAll().orderBy('seller_id', 'asc').orderBy('currency', 'asc');
  if (sellerId === null) query = query.where('seller_id', 'is', null);
  else if (sellerId !== undefined) query = query.where('seller_id', '=', sellerId);
  return query.execute();
}

/** Creates or replaces the policy for (seller or platform, currency or any). */
async function savePolicy(db: Kysely<Database>, actor: Actor, input: PolicyInput): Promise<FeePolicy> {
  return db.transaction().execute(async (trx) => {
    let existingQuery = trx.selectFrom('fee_policies').selectAll().forUpdate();
    existingQuery = input.sellerId === null ? existingQuery.where('seller_id', 'is', null) : existingQuery.where('seller_id', '=', input.sellerId);
    existingQuery = input.currency === null ? existingQuery.where('currency', 'is', null) : existingQuery.where('currency', '=', input.currency);
    const existing = await existingQuery.executeTakeFirst();
    const saved =
      existing === undefined
        ? await trx
            .insertInto('fee_policies')
            .values({
              seller_id: input.sellerId,
              currency: input.currency,
              basis_points: input.basisPoints,
              fixed_amount: input.fixedAmount,
            })
            .returningAll()
            .executeTakeFirstOrThrow()
        : await trx
            .updateTable('fee_policies')
            .set({ basis_points: input.basisPoints, fixed_amount: input.fixedAmount, updated_at: new Date() })
            .where('id', '=', existing.id)
            .returningAll()
            .executeTakeFirstOrThrow();
    await recordAudit(trx, actor, {
      action: 'fee_policy.save',
      targetType: input.sellerId === null ? 'platform' : 'seller',
      targetId: input.sellerId ?? 'platform',
      before: view(existing),
      after: view(saved),
    });
    return saved;
  });
}

export async function deletePolicy(db: Kysely<Database>, actor: Actor, policyId: string): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const existing = await trx.selectFrom('fee_policies').selectAll().where('id', '=', policyId).forUpdate().executeTakeFirst();
    if (existing === undefined) return false;
    await trx.deleteFrom('fee_policies').where('id', '=', policyId).execute();
    await recordAudit(trx, actor, {
      action: 'fee_policy.delete',
      targetType: existing.seller_id === null ? 'platform' : 'seller',
      targetId: existing.seller_id ?? 'platform',
      before: view(existing),
      after: null,
    });
    return true;
  });
}
