// What the Fastify instance and each request carry. Decorators hold infrastructure only.
import type { Kysely } from 'kysely';
import type Stripe from 'stripe';
import type { Config } from '../config.ts';
import type { Database, Session, User } from '../db/schema.ts';

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
    db: Kysely<Database>;
    stripe: Stripe;
  }
  interface FastifyRequest {
    /** The signed-in user and their session, or null for a visitor (every page's nav reads it). */
    auth: { user: User; session: Session } | null;
    /**
     * The signed-in user of an area (src/http/areas.ts), set by its guard before the route runs.
     * Only routes registered inside an area read it; elsewhere it is not set.
     */
    user: User;
    /** The client's address per TRUST_PROXY (src/http/client-address.ts); use it, not `ip`. */
    clientAddress: string;
  }
}

export {};
