/** Shared look for the hosted-page stand-ins. Every page carries a visible "Stripe emulator" label. */
export function escapeHtml(s: unknown): string {
  return String(s ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** `html\`<p>${x}</p>\`` escapes interpolations; wrap trusted fragments with `raw()`. */
export interface RawHtml {
  readonly __html: string;
}
export function raw(s: string): RawHtml {
  return { __html: s };
}
export function html(strings: TemplateStringsArray, ...values: unknown[]): RawHtml {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    if (Array.isArray(v)) out += v.map((x) => (isRaw(x) ? x.__html : escapeHtml(x))).join('');
    else out += isRaw(v) ? v.__html : escapeHtml(v);
    out += strings[i + 1] ?? '';
  });
  return raw(out);
}
function isRaw(v: unknown): v is RawHtml {
  return !!v && typeof v === 'object' && typeof (v as { __html?: unknown }).__html === 'string';
}

export function layout(title: string, body: RawHtml): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Stripe emulator</title>
<style>
  body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;background:#f6f9fc;color:#1a1f36;margin:0}
  .bar{background:#635bff;color:#fff;padding:10px 20px;font-weight:600;display:flex;justify-content:space-between}
  .bar .tag{background:#fff;color:#635bff;border-radius:4px;padding:2px 8px;font-size:12px}
  main{max-width:560px;margin:32px auto;background:#fff;border-radius:8px;box-shadow:0 2px 8px rgba(0,0,0,.08);padding:24px 28px}
  h1{font-size:20px;margin-top:0} table{border-collapse:collapse;width:100%} td,th{padding:6px 4px;border-bottom:1px solid #e3e8ee;text-align:left;font-size:14px}
  button,.btn{display:block;width:100%;margin:8px 0;padding:10px;border:1px solid #635bff;border-radius:6px;background:#fff;color:#635bff;font-size:15px;cursor:pointer;text-align:left}
  button.primary{background:#635bff;color:#fff} .muted{color:#697386;font-size:13px} button.primary .muted{color:#fff} code{background:#f0f3f7;padding:1px 4px;border-radius:3px}
  input{width:100%;padding:8px;margin:4px 0 12px;border:1px solid #cfd7df;border-radius:6px;box-sizing:border-box;font-size:15px}
</style></head>
<body><div class="bar"><span>${escapeHtml(title)}</span><span class="tag" data-testid="emulator-label">Stripe emulator</span></div>
<main>${body.__html}</main></body></html>`;
}
