/**
 * A shop's web server on another origin than the emulator, as a site using Stripe.js would have:
 * it serves the pages a test asks for and records every request it receives, so a test can show
 * that a card number went to the emulator only, never to the shop.
 */
import http from 'node:http';

export interface Shop {
  url: string;
  /** Every request received: `METHOD url body`. */
  requests: string[];
  close(): Promise<void>;
}

/** `pageFor` answers with the HTML for a URL, or undefined for a 404. */
export async function startShop(pageFor: (url: URL) => string | undefined): Promise<Shop> {
  const shop: Shop = { url: '', requests: [], close: () => new Promise((resolve) => server.close(() => resolve())) };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      shop.requests.push(`${req.method} ${req.url} ${Buffer.concat(chunks).toString('utf8')}`);
      const html = pageFor(new URL(req.url ?? '/', shop.url));
      res.statusCode = html === undefined ? 404 : 200;
      res.setHeader('content-type', 'text/html');
      res.end(html ?? 'not found');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  shop.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  return shop;
}
