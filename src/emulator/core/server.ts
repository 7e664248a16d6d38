/**
 * The HTTP server: every request gets a `Request-Id`, then goes to a hosted page (no checks:
 * browsers visit them), or through the Host/Origin guard to the control API or the `/v1`
 * pipeline.
 */
import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { StripeError } from './errors.ts';
import { parseForm, type Params } from './params.ts';
import { randomToken } from './ids.ts';
import { checkControlRequest, checkHost } from './guard.ts';
import { drain, headerValue, jsonToParams, readBody, sendError } from './http-io.ts';
import { handleApiRequest, type ApiPipelineDeps } from './api-pipeline.ts';
import { handleControlRequest } from './control-api.ts';
import type { PageHandler, PageResponse } from './types.ts';
import type { EmulatorCore } from './core.ts';

export interface ServerContext {
  core: EmulatorCore;
  api: ApiPipelineDeps;
  /** Host names (besides loopback names) the API and control API answer to. */
  allowedHosts: ReadonlySet<string>;
  logRequests: boolean;
}

export function startHttpServer(ctx: ServerContext, port: number, host: string): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    dispatch(ctx, req, res).catch((err: unknown) => {
      console.error('[stripe-emulator] unhandled', err);
      sendError(res, new StripeError({ status: 500, type: 'api_error', message: 'Internal emulator error' }));
    });
  });
  server.keepAliveTimeout = 5000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

export function closeHttpServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

async function dispatch(ctx: ServerContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const requestId = `req_${randomToken(14)}`;
  res.setHeader('Request-Id', requestId);
  const url = new URL(req.url ?? '/', 'http://emulator.local');
  const method = (req.method ?? 'GET').toUpperCase();
  const path = url.pathname;
  if (ctx.logRequests) console.error(`[stripe-emulator] ${method} ${path}`);

  const isControl = path.startsWith('/_emulator/');
  const page = isControl ? undefined : ctx.core.registry.pages.match(method, path);
  if (page) return handlePage(req, res, url, page.handler, page.pathParams);
  try {
    checkHost(req.headers, ctx.allowedHosts);
    if (isControl) checkControlRequest(method, req.headers);
  } catch (err) {
    await drain(req);
    if (err instanceof StripeError) return sendError(res, err);
    throw err;
  }
  if (isControl) return handleControlRequest(ctx.core, req, res, url);
  return handleApiRequest(ctx.api, req, res, requestId, url);
}

async function handlePage(req: IncomingMessage, res: ServerResponse, url: URL, handler: PageHandler, pathParams: Record<string, string>): Promise<void> {
  const method = (req.method ?? 'GET').toUpperCase();
  const body = method === 'POST' ? await readBody(req) : (await drain(req), '');
  const ct = headerValue(req.headers['content-type']) ?? '';
  const form: Params = ct.includes('application/json') && body ? jsonToParams(body) : parseForm(body);
  let out: PageResponse;
  try {
    out = await handler({ method, path: url.pathname, pathParams, query: parseForm(url.search.slice(1)), form, headers: req.headers });
  } catch (err) {
    if (err instanceof StripeError) return sendError(res, err);
    throw err;
  }
  const headers: Record<string, string> = { 'Cache-Control': 'no-store', ...(out.headers ?? {}) };
  if (out.redirect) {
    res.writeHead(out.status ?? 303, { ...headers, Location: out.redirect });
    res.end();
  } else if (out.html !== undefined) {
    res.writeHead(out.status ?? 200, { ...headers, 'Content-Type': 'text/html; charset=utf-8' });
    res.end(out.html);
  } else if (out.json !== undefined) {
    res.writeHead(out.status ?? 200, { ...headers, 'Content-Type': 'application/json' });
    res.end(JSON.stringify(out.json, null, 2));
  } else {
    res.writeHead(out.status ?? 200, { ...headers, 'Content-Type': out.contentType ?? 'text/plain; charset=utf-8' });
    res.end(out.text ?? '');
  }
}
