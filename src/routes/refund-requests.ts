// Buyers' refund requests: the buyer asks on their receipt (buyer area); the order's seller (seller
// area) or an admin (admin area) approves or declines it from the order's page. Each route calls
// one use case, then goes back to the order page with what happened in a flash message.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import type { RefundRow } from '../db/schema.ts';
import { redirectWithOutcome } from '../http/errors.ts';
import { render } from '../http/render.ts';
import { Csrf, IdParams, MultilineText, Type, Uuid } from '../http/schemas.ts';
import { listOpenRefundRequests } from '../refund-requests/queries.ts';
import { approveRefundRequest, askForRefund, declineRefundRequest } from '../refund-requests/use-cases.ts';

const REASON_MAX = 1000;
const AskBody = Type.Object({ reason: MultilineText({ minLength: 1, maxLength: REASON_MAX }), ...Csrf });
const DecisionParams = Type.Object({ id: Uuid, requestId: Uuid });
const ApproveBody = Type.Object({ note: Type.Optional(MultilineText({ maxLength: REASON_MAX })), ...Csrf });
const DeclineBody = Type.Object({ reason: MultilineText({ maxLength: REASON_MAX }), ...Csrf });

export const buyerRefundRequestRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/orders/:id/refund-request',
    {
      schema: { params: IdParams, body: AskBody },
      config: { rateLimit: { max: 20, timeWindow: '10 minutes' } },
    },
    async (request, reply) =>
      redirectWithOutcome(reply, `/orders/${request.params.id}`, async () => {
        await askForRefund(app.db, { buyerId: request.user.id, orderId: request.params.id, reason: request.body.reason });
        return 'Your refund request is sent. The seller or the marketplace will answer it here.';
      }),
  );
};

/** What an approval did, in the words of the refund's state after Stripe answered. */
function approvedMessage(refund: RefundRow): string {
  if (refund.status === 'succeeded') return 'Refund approved: Stripe refunded the buyer, who sees it on their receipt.';
  if (refund.status === 'failed' || refund.status === 'canceled')
    return `Refund approved, but Stripe reports it ${refund.status}${refund.failure_reason !== null ? ` (${refund.failure_reason})` : ''}: the buyer has not been refunded.`;
  return 'Refund approved and accepted by Stripe, which is still processing it. The buyer sees it on their receipt.';
}

function decisionRoutes(prefix: '/seller' | '/admin'): FastifyPluginAsyncTypebox {
  return async (app) => {
    const decider = (request: FastifyRequest) => ({ id: request.user.id, email: request.user.email, role: request.user.role });
    app.post(`${prefix}/orders/:id/refund-requests/:requestId/approve`, { schema: { params: DecisionParams, body: ApproveBody } }, async (request, reply) =>
      redirectWithOutcome(reply, `${prefix}/orders/${request.params.id}`, async () => {
        const { refund } = await approveRefundRequest(app.db, app.stripe, decider(request), {
          orderId: request.params.id,
          requestId: request.params.requestId,
          note: request.body.note ?? '',
        });
        return approvedMessage(refund);
      }),
    );
    app.post(`${prefix}/orders/:id/refund-requests/:requestId/decline`, { schema: { params: DecisionParams, body: DeclineBody } }, async (request, reply) =>
      redirectWithOutcome(reply, `${prefix}/orders/${request.params.id}`, async () => {
        await declineRefundRequest(app.db, decider(request), { orderId: request.params.id, requestId: request.params.requestId, reason: request.body.reason });
        return 'Refund request declined. The buyer sees your reason.';
      }),
    );
  };
}

/** The most open requests the admin list shows at once (answering them makes room for the next). */
const OPEN_LIST_MAX = 200;

/** Admins: every request still waiting, the longest-waiting first, each answerable from the list. */
const adminOpenRequestsRoute: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/admin/refund-requests', async (request, reply) => {
    const open = await listOpenRefundRequests(app.db, OPEN_LIST_MAX + 1);
    return render(request, reply, 'admin/refund-requests', {
      title: 'Refund requests',
      requests: open.slice(0, OPEN_LIST_MAX),
      more: open.length > OPEN_LIST_MAX,
      max: OPEN_LIST_MAX,
    });
  });
};

export const sellerRefundRequestRoutes = decisionRoutes('/seller');
const adminDecisionRoutes = decisionRoutes('/admin');
export const adminRefundRequestRoutes: FastifyPluginAsyncTypebox = async (app) => {
  await app.register(adminDecisionRoutes);
  await app.register(adminOpenRequestsRoute);
};
