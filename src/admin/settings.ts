// Platform policy switches the admin can change, each with its default when never set.
//   refunds.refund_application_fee — refunds give back the platform's fee in proportion (default on)
//   disputes.recover_from_seller   — a new dispute reverses the seller's transfer by the disputed
//                                    amount, and a won dispute pays it back (default on)
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { recordAudit, type Actor } from './audit.ts';

export const SETTINGS = {
  'refunds.refund_application_fee': true,
  'disputes.recover_from_seller': true,
} as const;
export type SettingKey = keyof typeof SETTINGS;

export async function getSetting(db: Kysely<Database>, key: SettingKey): Promise<boolean> {
  const row = await db.selectFrom('platform_settings').select('value').where('key', '=', key).executeTakeFirst();
  return typeof row?.value === 'boolean' ? row.value : SETTINGS[key];
}

export async function getSettings(db: Kysely<Database>): Promise<Record<SettingKey, boolean>> {
  const result = { ...SETTINGS } as Record<SettingKey, boolean>;
  for (const key of Object.keys(SETTINGS) as SettingKey[]) result[key] = await getSetting(db, key);
  return result;
}

/** Saves the switches that changed, each with its audit entry. */
export async function saveSettings(db: Kysely<Database>, actor: Actor, values: Record<SettingKey, boolean>): Promise<void> {
  const current = await getSettings(db);
  for (const key of Object.keys(SETTINGS) as SettingKey[]) {
    if (values[key] !== current[key]) await setSetting(db, actor, key, values[key]);
  }
}

async function setSetting(db: Kysely<Database>, actor: Actor, key: SettingKey, value: boolean): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const before = await trx.selectFrom('platform_settings').select('value').where('key', '=', key).forUpdate().executeTakeFirst();
    await trx
      .insertInto('platform_settings')
      .values({ key, value: JSON.stringify(value), updated_at: new Date() })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value: JSON.stringify(value), updated_at: new Date() }))
      .execute();
    await recordAudit(trx, actor, {
      action: 'setting.update',
      targetType: 'setting',
      targetId: key,
      before: { value: typeof before?.value === 'boolean' ? before.value : SETTINGS[key] },
      after: { value },
    });
  });
}
