/**
 * A tiny form-driving "browser" for the emulator's hosted pages: GET a page, POST a form, follow
 * 303 redirects (only those that stay on the emulator), and read `data-testid` values.
 */
export interface PageResult {
  url: string;
  status: number;
  html: string;
}

/** Fetch `url`, following redirects on the emulator's own origin; stops at other origins. */
export async function visit(url: string, init: { form?: Record<string, string> } = {}): Promise<PageResult> {
  const origin = new URL(url).origin;
  let current = url;
  let res = await fetch(current, {
    method: init.form ? 'POST' : 'GET',
    redirect: 'manual',
    ...(init.form ? { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(init.form).toString() } : {}),
  });
  for (let hops = 0; hops < 10 && res.status >= 300 && res.status < 400; hops++) {
    const location = res.headers.get('location') ?? '';
    current = new URL(location, current).toString();
    if (new URL(current).origin !== origin) return { url: current, status: res.status, html: '' };
    res = await fetch(current, { redirect: 'manual' });
  }
  return { url: current, status: res.status, html: await res.text() };
}

/** The `action` of the form containing the element with this `data-testid`, resolved against the page URL. */
export function formActionFor(page: PageResult, testid: string): string {
  const at = page.html.indexOf(`data-testid="${testid}"`);
  if (at < 0) throw new Error(`no element data-testid="${testid}" on ${page.url}`);
  const formStart = page.html.lastIndexOf('<form', at);
  const match = /action="([^"]+)"/.exec(page.html.slice(formStart, at));
  if (!match?.[1]) throw new Error(`no form around data-testid="${testid}"`);
  return new URL(match[1].replace(/&amp;/g, '&'), page.url).toString();
}

/** Hidden inputs of the form around `testid` (e.g. client_secret, subscription). */
export function hiddenFieldsFor(page: PageResult, testid: string): Record<string, string> {
  const at = page.html.indexOf(`data-testid="${testid}"`);
  const formStart = page.html.lastIndexOf('<form', at);
  const chunk = page.html.slice(formStart, at);
  const out: Record<string, string> = {};
  for (const m of chunk.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) out[m[1] ?? ''] = (m[2] ?? '').replace(/&amp;/g, '&');
  return out;
}

/** Submit the form around the button `testid` (its name=value included), plus `fields`. */
export async function press(page: PageResult, testid: string, fields: Record<string, string> = {}): Promise<PageResult> {
  const at = page.html.indexOf(`data-testid="${testid}"`);
  const tagStart = page.html.lastIndexOf('<', at);
  const tag = page.html.slice(tagStart, page.html.indexOf('>', at) + 1);
  const name = /name="([^"]+)"/.exec(tag)?.[1];
  const value = /value="([^"]+)"/.exec(tag)?.[1];
  const form = { ...hiddenFieldsFor(page, testid), ...(name && value ? { [name]: value } : {}), ...fields };
  return visit(formActionFor(page, testid), { form });
}

export function hasTestId(page: PageResult, testid: string): boolean {
  return page.html.includes(`data-testid="${testid}"`);
}
