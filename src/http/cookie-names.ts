// Under https every cookie we set carries the __Host- prefix: browsers then accept it only with
// Secure, Path=/ and no Domain, so neither a sibling subdomain nor a plain-http page on the same
// host can plant or overwrite it (a planted session or CSRF secret is how fixation starts).
// Over plain http (local development) the prefix would make browsers drop the cookie.
import type { Config } from '../config.ts';

export function cookieName(base: string, config: Pick<Config, 'secureCookies'>): string {
  return config.secureCookies ? `__Host-${base}` : base;
}
