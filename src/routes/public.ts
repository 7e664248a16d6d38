import type { FastifyInstance } from 'fastify';
import { render } from '../http/render.ts';

export async function publicRoutes(app: FastifyInstance): Promise<void> {
  app.get('/', async (request, reply) => render(request, reply, 'public/home', { title: 'Marketplace' }));
}
