// The yardstick for the catalogue: a bare Fastify route answering a small fixed HTML page.
import Fastify from 'fastify';
import { onShutdown } from './shutdown.ts';

const PAGE =
  '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Marketplace</title></head><body><h1>Marketplace</h1><p>Listings.</p></body></html>';
const app = Fastify({ logger: false });
app.get('/', async (_request, reply) => reply.type('text/html; charset=utf-8').send(PAGE));
app.get('/healthz', async () => ({ status: 'ok' }));
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
onShutdown(() => app.close());
