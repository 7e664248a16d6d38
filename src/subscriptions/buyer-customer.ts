// The buyer's platform Customer comes from the customers module (issue 12): one per buyer, created
// once under a committed intent. Subscriptions, their invoices and the portal all use it.
export { ensureBuyerCustomer as customerForBuyer } from '../customers/use-cases.ts';
