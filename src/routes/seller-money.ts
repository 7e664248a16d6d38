// The seller's money (issue 16, point 6): their balance from Stripe, their payouts as recorded from
// Stripe's payout events (keyset pages, newest first), and CSV exports of their orders and payouts.
// Registered inside the seller area: everything here is the signed-in seller's own.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { readCursor } from '../admin/list-filters.ts';
import { cursorText } from '../db/paging.ts';
import { sendCsv } from '../http/csv-download.ts';
import { render } from '../http/render.ts';
import { Text, Type } from '../http/schemas.ts';
import { PAYOUT_ID, payoutStatusView } from '../payouts/rules.ts';
import { sellerMoney } from '../payouts/use-cases.ts';
import { sellerOrdersCsv, sellerPayoutsCsv } from '../sellers/money-exports.ts';

const MoneyQuery = Type.Object({ before: Type.Optional(Text({ maxLength: 120 })) });

export const sellerMoneyRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/seller/money', { schema: { querystring: MoneyQuery } }, async (request, reply) => {
    const before = readCursor(request.query.before, PAYOUT_ID);
    if (!before.ok) return render(request, reply, 'seller/money', { title: 'Money', pageError: before.message }, 400);
    const money = await sellerMoney(app.db, app.stripe, request.user.id, before.value);
    if (money.balance.state === 'unavailable') request.log.warn({ err: money.balance.error }, 'seller balance: Stripe did not answer');
    return render(request, reply, 'seller/money', {
      title: 'Money',
      hasAccount: money.accountId !== null,
      balance: money.balance.state === 'read' ? money.balance.rows : null,
      balanceUnavailable: money.balance.state === 'unavailable',
      payouts: money.payouts.rows.map((p) => ({ ...p, view: payoutStatusView(p) })),
      nextPage: money.payouts.next === null ? null : `/seller/money?before=${encodeURIComponent(cursorText(money.payouts.next))}`,
      firstPage: before.value !== undefined,
    });
  });

  app.get('/seller/money/orders.csv', async (request, reply) => sendCsv(reply, 'orders', sellerOrdersCsv(app.db, request.user.id)));
  app.get('/seller/money/payouts.csv', async (request, reply) => sendCsv(reply, 'payouts', sellerPayoutsCsv(app.db, request.user.id)));
};
