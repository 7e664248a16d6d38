/** Connect side of the emulator: accounts, onboarding, login links, payouts, balance, events, webhook endpoints. */
import type { EmulatorCore } from '../../core/core.ts';
import { registerAccounts } from './accounts.ts';
import { registerOnboarding } from './onboarding.ts';
import { registerExpress } from './express.ts';
import { registerPayouts } from './payouts.ts';
import { registerPlatform } from './platform.ts';
import { accountsOf, delayDaysOf, enforceDeadlines } from './model.ts';
import { PLATFORM_DELAY_DAYS } from '../../core/ledger.ts';

export function registerConnect(core: EmulatorCore): void {
  const accounts = accountsOf(core);
  core.ledger.delayDays = (account) => (account === core.platformAccount ? PLATFORM_DELAY_DAYS : delayDaysOf(accounts.get(account)));
  registerAccounts(core);
  registerOnboarding(core);
  registerExpress(core);
  registerPayouts(core);
  registerPlatform(core);
  core.onTick('requirement-deadlines', (now) => enforceDeadlines(core, now));
}
