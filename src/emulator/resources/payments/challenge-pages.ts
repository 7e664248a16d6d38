/**
 * The pages of the 3D Secure challenge stand-in, the same for a PaymentIntent (/hosted/3ds, ./pages.ts)
 * and a SetupIntent (/hosted/setup_3ds, ../billing/setup-pages.ts): the challenge with its Complete
 * and Fail buttons, and the answers around it.
 */
import type { PageResponse } from '../../core/core.ts';
import { html, type RawHtml } from '../../core/html.ts';
import { page } from './layout.ts';

type IntentKind = 'PaymentIntent' | 'SetupIntent';

export function unknownChallengePage(): PageResponse {
  return { status: 404, html: page('3D Secure', html`<h1>Unknown or expired authentication</h1>`) };
}

/** The intent is not waiting for authentication (already done, or never asked for it). */
export function nothingToAuthenticatePage(kind: IntentKind, intent: { id: string; status: string }): PageResponse {
  return {
    html: page(
      '3D Secure',
      html`<h1 data-testid="3ds-done">Nothing to authenticate</h1>
        <p class="muted">${kind} <code>${intent.id}</code> is ${intent.status}.</p>`,
    ),
  };
}

/** The challenge: the bank asks to confirm `what`; the buttons post to `action`. */
export function challengePage(o: { kind: IntentKind; id: string; clientSecret: string | null; action: string; what: RawHtml }): PageResponse {
  const body = html`<h1>3D Secure authentication</h1>
    <p>Your bank asks you to confirm ${o.what}.</p>
    <p class="muted">This stands in for the card issuer's challenge page. ${o.kind} <code>${o.id}</code>.</p>
    <form method="post" action="${o.action}">
      <input type="hidden" name="client_secret" value="${o.clientSecret ?? ''}" />
      <button class="primary" type="submit" name="action" value="complete" data-testid="3ds-complete">Complete authentication</button>
      <button type="submit" name="action" value="fail" data-testid="3ds-fail">Fail authentication</button>
    </form>`;
  return { html: page('3D Secure', body) };
}

/** The posted form's `action` was neither complete nor fail. */
export function chooseCompleteOrFailPage(): PageResponse {
  return { status: 400, html: page('3D Secure', html`<h1>Choose complete or fail</h1>`) };
}

/** After the challenge, for an intent with no return_url to send the buyer back to. */
export function challengeResultPage(kind: IntentKind, intent: { id: string; status: string }, completed: boolean): PageResponse {
  return {
    html: page(
      '3D Secure',
      html`<h1 data-testid="3ds-result">Authentication ${completed ? 'completed' : 'failed'}</h1>
        <p class="muted">${kind} <code>${intent.id}</code> is now ${intent.status}. You can close this window.</p>`,
    ),
  };
}
