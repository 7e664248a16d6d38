// Headers helmet does not send: Permissions-Policy (this site uses no camera, microphone, location
// or sensors, and only Stripe's frames may ask for the Payment Request API), and no-store on every
// response to a signed-in request, so a shared or back-button cache never shows one person's
// orders, payouts or forms to the next.
import type { FastifyInstance } from 'fastify';

const UNUSED_FEATURES = [
  'accelerometer', 'autoplay', 'bluetooth', 'camera', 'display-capture', 'geolocation', 'gyroscope', 'hid',
  'magnetometer', 'microphone', 'midi', 'serial', 'usb', 'xr-spatial-tracking', 'browsing-topics',
];

/** `stripeOrigins`: where Stripe.js and its frames come from (wildcards cannot be listed here). */
export function permissionsPolicy(stripeOrigins: string[]): string {
  const payment = ['self', ...stripeOrigins.filter((origin) => !origin.includes('*')).map((origin) => `"${origin}"`)];
  return [...UNUSED_FEATURES.map((feature) => `${feature}=()`), `payment=(${payment.join(' ')})`].join(', ');
}

export function addSecurityHeaders(app: FastifyInstance, options: { stripeOrigins: string[] }): void {
  const policy = permissionsPolicy(options.stripeOrigins);
  app.addHook('onSend', async (request, reply, payload) => {
    reply.header('permissions-policy', policy);
    // Static files say their own caching (and hold nothing personal).
    if (request.auth !== null && !reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    return payload;
  });
}
