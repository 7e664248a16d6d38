// The site's security headers, computed once at start-up rather than on every response: helmet's
// headers (its middleware run once against a recording response; @fastify/helmet re-ran it, CSP
// string-building included, for every request) plus two helmet does not send: Permissions-Policy
// (this site uses no camera, microphone, location or sensors, and only Stripe's frames may ask for
// the Payment Request API), and no-store on every response to a signed-in request, so a shared or
// back-button cache never shows one person's orders, payouts or forms to the next.
// A route may still set its own value for one of these headers (the mailbox's stricter CSP).
import type { FastifyInstance } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet, { type HelmetOptions } from 'helmet';

const UNUSED_FEATURES = [
  'accelerometer',
  'autoplay',
  'bluetooth',
  'camera',
  'display-capture',
  'geolocation',
  'gyroscope',
  'hid',
  'magnetometer',
  'microphone',
  'midi',
  'serial',
  'usb',
  'xr-spatial-tracking',
  'browsing-topics',
];

/** `stripeOrigins`: where Stripe.js and its frames come from (wildcards cannot be listed here). */
export function permissionsPolicy(stripeOrigins: string[]): string {
  const payment = ['self', ...stripeOrigins.filter((origin) => !origin.includes('*')).map((origin) => `"${origin}"`)];
  return [...UNUSED_FEATURES.map((feature) => `${feature}=()`), `payment=(${payment.join(' ')})`].join(', ');
}

/** What helmet would set on a response with these options (none of ours depend on the request). */
export function helmetHeaders(options: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader(name: string, value: unknown) {
      headers[name.toLowerCase()] = String(value);
    },
    removeHeader(name: string) {
      delete headers[name.toLowerCase()];
    },
  };
  let finished = false;
  let failure: unknown;
  helmet(options)({} as IncomingMessage, recorder as unknown as ServerResponse, (error?: unknown) => {
    failure = error;
    finished = true;
  });
  if (failure !== undefined && failure !== null) throw new Error('helmet refused its options', { cause: failure });
  if (!finished) throw new Error('helmet did not finish synchronously: its headers cannot be computed once');
  return headers;
}

export function addSecurityHeaders(app: FastifyInstance, options: { stripeOrigins: string[]; helmet: HelmetOptions }): void {
  const fixed = { ...helmetHeaders(options.helmet), 'permissions-policy': permissionsPolicy(options.stripeOrigins) };
  app.addHook('onRequest', async (_request, reply) => {
    reply.headers(fixed);
  });
  app.addHook('onSend', async (request, reply, payload) => {
    // Static files say their own caching (and hold nothing personal).
    if (request.auth !== null && !reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    return payload;
  });
}
