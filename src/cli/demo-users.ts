// Demo logins for offline mode only, so `npm start` can be explored at once. Never used with a
// real Stripe key: there, admins are created with `npm run admin:create`.
import type { Kysely } from 'kysely';
import { createUser, findUserByEmail } from '../auth/users.ts';
import type { Database, Role } from '../db/schema.ts';

export const DEMO_PASSWORD = 'demo-password-123';
/** The seller whose shop src/cli/demo-seed.ts sets up. */
export const DEMO_SELLER_EMAIL = 'seller@demo.test';
const DEMO_USERS: { email: string; role: Role; displayName: string }[] = [
  { email: 'admin@demo.test', role: 'admin', displayName: 'Demo Admin' },
  { email: DEMO_SELLER_EMAIL, role: 'seller', displayName: 'Demo Seller' },
  { email: 'buyer@demo.test', role: 'buyer', displayName: 'Demo Buyer' },
];

export async function ensureDemoUsers(db: Kysely<Database>): Promise<typeof DEMO_USERS> {
  for (const demo of DEMO_USERS) {
    if ((await findUserByEmail(db, demo.email)) === undefined) {
      await createUser(db, { ...demo, password: DEMO_PASSWORD });
    }
  }
  return DEMO_USERS;
}
