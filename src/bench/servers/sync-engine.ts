// @supabase/stripe-sync-engine's webhook endpoint, as its own server runs it: verify the signature
// and write the object into its tables in the request. Its migrations run first (the CommonJS build
// finds its SQL files offline; the ESM build looks for them relative to an undefined __dirname).
import Fastify from 'fastify';
import { createRequire } from 'node:module';
import type * as SyncEngine from '@supabase/stripe-sync-engine';
import { onShutdown } from './shutdown.ts';

const require = createRequire(import.meta.url);
const { StripeSync, runMigrations } = require('@supabase/stripe-sync-engine') as typeof SyncEngine;

const databaseUrl = process.env.DATABASE_URL!;
await runMigrations({ databaseUrl, schema: 'stripe' });
const sync = new StripeSync({
  poolConfig: { connectionString: databaseUrl, max: 10 },
  schema: 'stripe',
  stripeSecretKey: 'sk_test_bench_no_calls_expected',
  stripeWebhookSecret: process.env.BENCH_WEBHOOK_SECRET!,
  backfillRelatedEntities: false,
});

const app = Fastify({ logger: false });
app.removeAllContentTypeParsers();
app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
for (const path of ['/webhooks/stripe', '/webhooks/stripe/connect']) {
  app.post(path, async (request, reply) => {
    try {
      await sync.processWebhook(request.body as Buffer, request.headers['stripe-signature'] as string | undefined);
    } catch (error) {
      return reply.code(400).send({ error: error instanceof Error ? error.message : String(error) });
    }
    return { received: true };
  });
}
app.get('/healthz', async () => ({ status: 'ok' }));
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
onShutdown(async () => {
  await app.close();
  await sync.postgresClient.close();
});
