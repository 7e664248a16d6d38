/** `/v1/payment_methods` routes (cards: test numbers, `tok_*` tokens, `pm_card_*` ids). */
import type { EmulatorCore } from '../../../core/core.ts';
import { p, str, obj, mergeMetadata } from '../../../core/params.ts';
import { invalidRequest } from '../../../core/errors.ts';
import { lookupCardNumber } from '../cards.ts';
import { createCardPaymentMethod, retrievePaymentMethod } from '../payment-methods.ts';
import { metadataOf } from '../param-readers.ts';
import type { Payments } from '../state.ts';

export function registerPaymentMethodRoutes(core: EmulatorCore, pay: Payments): void {
  core.route(
    'POST',
    '/v1/payment_methods',
    {
      required: ['type'],
      params: {
        type: p.enum('card'),
        card: { token: p.string, number: p.string, exp_month: p.integer, exp_year: p.integer, cvc: p.string },
        billing_details: { email: p.string, name: p.string, phone: p.string, address: p.any },
        metadata: p.hash,
        allow_redisplay: p.enum('always', 'limited', 'unspecified'),
      },
    },
    (req) => {
      const card = obj(req.params, 'card');
      const token = card ? str(card, 'token') : undefined;
      const number = card ? str(card, 'number') : undefined;
      let cardNumber: string | undefined;
      if (token) {
        const map: Record<string, string> = {
          tok_visa: '4242424242424242',
          tok_chargeDeclined: '4000000000000002',
          tok_chargeDeclinedInsufficientFunds: '4000000000009995',
          tok_threeDSecure2Required: '4000000000003220',
          tok_bypassPending: '4000000000000077',
          tok_createDispute: '4000000000000259',
        };
        cardNumber = map[token];
        if (!cardNumber) throw invalidRequest(`No such token: '${token}'`, { code: 'resource_missing', param: 'card[token]' });
      } else if (number) {
        cardNumber = number;
      } else {
        throw invalidRequest('Missing required param: card.', { code: 'parameter_missing', param: 'card' });
      }
      const found = lookupCardNumber(cardNumber);
      if (!found.ok) throw invalidRequest(found.message, { code: 'incorrect_number', param: 'card[number]' });
      const md = metadataOf(req.params);
      return createCardPaymentMethod(pay, req.account, found.card, {
        email: str(req.params, 'billing_details.email') ?? null,
        ...(md ? { metadata: md } : {}),
      });
    },
  );
  core.route('GET', '/v1/payment_methods/:id', {}, (req) => retrievePaymentMethod(pay, req.account, req.pathParams.id ?? ''));
  core.route(
    'POST',
    '/v1/payment_methods/:id',
    { params: { metadata: p.hash, billing_details: p.any, allow_redisplay: p.enum('always', 'limited', 'unspecified') } },
    (req) => {
      const pm = pay.pms.require(req.pathParams.id ?? '', req.account);
      pm.metadata = mergeMetadata(pm.metadata ?? {}, req.params);
      return pay.pms.save(pm);
    },
  );
  core.route('GET', '/v1/payment_methods', { list: true, params: { customer: p.string, type: p.string } }, (req) => {
    const customer = str(req.params, 'customer');
    return core.paginate(
      req,
      pay.pms.list(req.account, (pm) => (customer ? pm.customer === customer : true)),
    );
  });
}
