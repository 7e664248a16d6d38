/**
 * `npm run emulator`: the emulator on its own (port 12111 by default), for any Stripe client.
 * Env: EMULATOR_PORT, EMULATOR_HOST, EMULATOR_PUBLIC_URL, EMULATOR_STATE_FILE,
 * EMULATOR_PLATFORM_WEBHOOK_URL / _SECRET, EMULATOR_CONNECT_WEBHOOK_URL / _SECRET,
 * EMULATOR_ALLOWED_HOSTS (comma-separated host names clients use besides loopback names).
 */
import { startEmulator, type EmulatorOptions } from './index.ts';
import { isLoopbackAddress } from './core/guard.ts';

function endpoint(prefix: string): { url: string; secret: string } | undefined {
  const url = process.env[`${prefix}_URL`];
  if (!url) return undefined;
  const secret = process.env[`${prefix}_SECRET`];
  if (!secret) {
    console.error(`${prefix}_URL is set but ${prefix}_SECRET is not; events to it could not be verified.`);
    process.exit(1);
  }
  return { url, secret };
}

const options: EmulatorOptions = {
  port: Number(process.env.EMULATOR_PORT ?? 12111),
  host: process.env.EMULATOR_HOST ?? '127.0.0.1',
  tickIntervalMs: 1000,
  logRequests: process.env.EMULATOR_LOG === '1',
};
if (process.env.EMULATOR_STATE_FILE) options.stateFile = process.env.EMULATOR_STATE_FILE;
if (process.env.EMULATOR_PUBLIC_URL) options.publicUrl = process.env.EMULATOR_PUBLIC_URL;
if (process.env.EMULATOR_ALLOWED_HOSTS)
  options.allowedHosts = process.env.EMULATOR_ALLOWED_HOSTS.split(',')
    .map((h) => h.trim())
    .filter(Boolean);
if (!isLoopbackAddress(options.host ?? '127.0.0.1')) {
  console.warn(
    `Warning: listening on ${options.host}, not loopback. The emulator has no real authentication: anyone who can reach this address can drive its API and control API.`,
  );
}
const platform = endpoint('EMULATOR_PLATFORM_WEBHOOK');
const connect = endpoint('EMULATOR_CONNECT_WEBHOOK');
if (platform || connect) options.webhooks = { ...(platform ? { platform } : {}), ...(connect ? { connect } : {}) };

const emu = await startEmulator(options);
console.log(`Stripe emulator listening on ${emu.url} (platform account ${emu.platformAccount})`);
console.log(`  state: ${options.stateFile ?? 'in memory'}`);
console.log(`  platform webhooks: ${platform?.url ?? 'none'}  connect webhooks: ${connect?.url ?? 'none'}`);
console.log(`  SDK: new Stripe('sk_test_…', { host: '${new URL(emu.url).hostname}', port: ${emu.port}, protocol: 'http' })`);

let stopping = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (stopping) return;
    stopping = true;
    void emu.stop().then(() => process.exit(0));
  });
}
