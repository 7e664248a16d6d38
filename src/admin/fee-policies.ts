// Editing the platform's fee policies (the table and the pricing rule belong to src/orders/fees.ts).
// An order copies its policy when it is placed, so every edit here affects new orders only. Each
// edit is one transaction with its audit entry (before and after).
import type { Kysely } from 'kysely';
import type { Database, FeePolicy } from '../db/schema.ts';
import { recordAudit, type Actor } from './audit.ts';

export interface PolicyInput {
  sellerId: string | null;
  currency: string | null;
  basisPoints: number;
  fixedAmount: number;
}

const view = (p: FeePolicy | undefined) => p === undefined ? null : {
  seller_id: p.seller_id, currency: p.currency, basis_points: p.basis_points, fixed_amount: p.fixed_amount,
};

export async function listPolicies(db: Kysely<Database>, sellerId?: string | null): Promise<FeePolicy[]> {
  let query = db.selectFrom('fee_policies').selectAll().orderBy('seller_id', 'asc').orderBy('currency', 'asc');
  if (sellerId === null) query = query.where('seller_id', 'is', null);
  else if (sellerId !== undefined) query = query.where('seller_id', '=', sellerId);
  return query.execute();
}

/** Creates or replaces the policy for (seller or platform, currency or any). */
export async function savePolicy(db: Kysely<Database>, actor: Actor, input: PolicyInput): Promise<FeePolicy> {
  return db.transaction().execute(async (trx) => {
    let existingQuery = trx.selectFrom('fee_policies').selectAll().forUpdate();
    existingQuery = input.sellerId === null ? existingQuery.where('seller_id', 'is', null) : existingQuery.where('seller_id', '=', input.sellerId);
    existingQuery = input.currency === null ? existingQuery.where('currency', 'is', null) : existingQuery.where('currency', '=', input.currency);
    const existing = await existingQuery.executeTakeFirst();
    const saved = existing === undefined
      ? await trx.insertInto('fee_policies').values({
        seller_id: input.sellerId, currency: input.currency, basis_points: input.basisPoints, fixed_amount: input.fixedAmount,
      }).returningAll().executeTakeFirstOrThrow()
      : await trx.updateTable('fee_policies').set({ basis_points: input.basisPoints, fixed_amount: input.fixedAmount, updated_at: new Date() })
        .where('id', '=', existing.id).returningAll().executeTakeFirstOrThrow();
    await recordAudit(trx, actor, {
      action: 'fee_policy.save', targetType: input.sellerId === null ? 'platform' : 'seller', targetId: input.sellerId ?? 'platform',
      before: view(existing), after: view(saved),
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
      action: 'fee_policy.delete', targetType: existing.seller_id === null ? 'platform' : 'seller', targetId: existing.seller_id ?? 'platform',
      before: view(existing), after: null,
    });
    return true;
  });
}
