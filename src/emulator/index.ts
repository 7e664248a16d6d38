/**
 * Stateful local Stripe emulator. `startEmulator()` starts it on node:http; point the real
 * `stripe` SDK at it with `new Stripe(key, {host, port, protocol: 'http'})`.
 * See ./README.md (usage, control API) and ./CORE_API.md (how resource modules plug in).
 */
import { EmulatorCore, type EmulatorOptions } from './core/core.ts';
import { registerConnect } from './resources/connect/index.ts';
import { registerPayments } from './resources/payments/index.ts';
import { registerBilling } from './resources/billing/index.ts';

export type { EmulatorOptions, ApiRequest, RouteOptions, PageRequest, PageResponse, Fault, FaultKind, RequestLogEntry } from './core/core.ts';
export { EmulatorCore, DEFAULT_PLATFORM_ACCOUNT } from './core/core.ts';
export { API_VERSION } from './core/events.ts';
export { signPayload } from './core/webhooks.ts';
export type { DeliveryMode, Delivery, EndpointConfig, WebhookConfig } from './core/webhooks.ts';

export interface RunningEmulator {
  /** Listen URL, e.g. `http://127.0.0.1:12111`. */
  url: string;
  port: number;
  /** Platform account id (objects created without `Stripe-Account` belong to it). */
  platformAccount: string;
  /** In-process access to the core (clock, store, ledger, delivery) for tests. */
  core: EmulatorCore;
  /** Saves state (with `stateFile`) and closes the server. */
  stop(): Promise<void>;
}

/** Build a core with every resource module registered (not listening yet). */
export function createEmulator(options: EmulatorOptions = {}): EmulatorCore {
  const core = new EmulatorCore(options);
  registerConnect(core);
  // Billing registers after payments and gets its `Payments` (resources/payments/api.ts).
  registerPayments(core);
  registerBilling(core);
  return core;
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  // Offline mode (state on disk) follows real time; in-memory instances (tests) move only on advance.
  const opts: EmulatorOptions = { ...options, tickIntervalMs: options.tickIntervalMs ?? (options.stateFile ? 1000 : 0) };
  const core = createEmulator(opts);
  const { url, port } = await core.listen();
  return { url, port, platformAccount: core.platformAccount, core, stop: () => core.stop() };
}
