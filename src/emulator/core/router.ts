/** Minimal method + path-pattern router (`/v1/accounts/:id/login_links`). */
export interface Match<H> {
  handler: H;
  pathParams: Record<string, string>;
}

interface Entry<H> {
  method: string;
  pattern: string;
  re: RegExp;
  names: string[];
  handler: H;
}

export class Router<H> {
  private entries: Array<Entry<H>> = [];

  add(method: string, pattern: string, handler: H): void {
    const names: string[] = [];
    const re = new RegExp(
      '^' +
        pattern
          .split('/')
          .map((seg) => {
            if (seg.startsWith(':')) {
              names.push(seg.slice(1));
              return '([^/]+)';
            }
            return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
          })
          .join('/') +
        '/?$',
    );
    const m = method.toUpperCase();
    if (this.entries.some((e) => e.method === m && e.pattern === pattern)) throw new Error(`route already registered: ${m} ${pattern}`);
    // literal segments win over parameters: register order is kept, but more literal patterns first
    this.entries.push({ method: m, pattern, re, names, handler });
    this.entries.sort((a, b) => b.pattern.split('/').filter((s) => !s.startsWith(':')).length - a.pattern.split('/').filter((s) => !s.startsWith(':')).length);
  }

  match(method: string, path: string): Match<H> | undefined {
    for (const e of this.entries) {
      if (e.method !== method.toUpperCase()) continue;
      const m = e.re.exec(path);
      if (!m) continue;
      const pathParams: Record<string, string> = {};
      e.names.forEach((n, i) => {
        pathParams[n] = decodeURIComponent(m[i + 1] ?? '');
      });
      return { handler: e.handler, pathParams };
    }
    return undefined;
  }

  /** The handler registered for exactly this method and pattern. */
  find(method: string, pattern: string): H | undefined {
    const m = method.toUpperCase();
    return this.entries.find((e) => e.method === m && e.pattern === pattern)?.handler;
  }

  hasPath(path: string): boolean {
    return this.entries.some((e) => e.re.test(path));
  }
}
