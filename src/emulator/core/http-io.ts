/** Reading requests and writing JSON answers on node:http, shared by the API, pages and controls. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { StripeError, invalidRequest } from './errors.ts';
import type { Params } from './params.ts';

const MAX_BODY = 1024 * 1024;

export function headerValue(v: string | string[] | undefined): string | undefined {
  if (Array.isArray(v)) return v[0];
  return v === undefined || v === '' ? undefined : v;
}

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(invalidRequest('Request body too large.', { status: 413 }));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Read and discard the body, so a keep-alive connection can carry the next request. */
export async function drain(req: IncomingMessage): Promise<void> {
  if (req.readableEnded) return;
  await readBody(req).catch(() => undefined);
}

export function sendJson(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(body);
}

export function sendError(res: ServerResponse, err: StripeError): void {
  if (res.headersSent) return;
  sendJson(res, err.status, JSON.stringify(err.toBody(), null, 2), err.headers ?? {});
}

/** A JSON object body as params; anything else (or invalid JSON) → `{}`. */
export function jsonToParams(body: string): Params {
  try {
    const v = JSON.parse(body) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Params) : {};
  } catch {
    return {};
  }
}

/** Any thrown value as a Stripe error (non-Stripe errors become a 500 `api_error`). */
export function asStripeError(err: unknown): StripeError {
  if (err instanceof StripeError) return err;
  return new StripeError({ status: 500, type: 'api_error', message: err instanceof Error ? err.message : String(err) });
}
