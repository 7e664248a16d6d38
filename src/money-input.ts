// An amount typed into an admin form (a refund, a payout), in the currency it is for: minor units
// above zero, or the DomainError that tells the admin what to fix.
import { DomainError } from './errors.ts';
import { parseMoney } from './money.ts';

export function amountFromForm(text: string, currency: string): number {
  const parsed = parseMoney(text, currency);
  if (!parsed.ok) throw new DomainError('amount_invalid', { reason: parsed.message });
  if (parsed.amount <= 0) throw new DomainError('amount_not_positive');
  return parsed.amount;
}
