/**
 * Registration entry for the money resources (PaymentIntents, Charges, Checkout, Refunds,
 * Transfers, Application fees, Disputes). Owned by the payments helper; see ../../CORE_API.md.
 */
import type { EmulatorCore } from '../../core/core.ts';

export function registerPayments(_core: EmulatorCore): void {
  // Routes are added here by the payments module.
}
