// The yardstick for intake: the least a correct webhook endpoint can do. The raw bytes, the SDK's
// constructEvent, one INSERT through `pg` (no query builder, no plugins, no logging) into a table
// shaped like the inbox with the same indexes, in the same database as ours.
import Fastify from 'fastify';
import pg from 'pg';
import Stripe from 'stripe';
import { onShutdown } from './shutdown.ts';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
const stripe = new Stripe('sk_test_bench_no_calls_expected');
const secret = process.env.BENCH_WEBHOOK_SECRET!;
await pool.query('create table if not exists bench_baseline (like stripe_events including all)');

const app = Fastify({ logger: false });
app.removeAllContentTypeParsers();
app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
const insert = `insert into bench_baseline (id, type, account, created, livemode, source, payload)
                values ($1, $2, $3, $4, $5, $6, $7) on conflict (id) do nothing`;
for (const [path, source] of [
  ['/webhooks/stripe', 'platform'],
  ['/webhooks/stripe/connect', 'connect'],
] as const) {
  app.post(path, async (request, reply) => {
    const raw = request.body as Buffer;
    let event: Stripe.Event;
    try {
      event = stripe.webhooks.constructEvent(raw, String(request.headers['stripe-signature']), secret, 300);
    } catch {
      return reply.code(400).send({ error: 'Invalid signature' });
    }
    await pool.query(insert, [event.id, event.type, event.account ?? null, new Date(event.created * 1000), event.livemode, source, raw.toString('utf8')]);
    return { received: true };
  });
}
app.get('/healthz', async () => ({ status: 'ok' }));
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
onShutdown(async () => {
  await app.close();
  await pool.end();
});
