// Sending a request that carries an idempotency key derived from one of our records (the recorded
// intent). Two requests for the same intent (a double submit, a retry racing a webhook) send the
// same key, and Stripe makes one object for it: the second gets the first's answer. While the first
// is still being processed Stripe answers 409 `idempotency_key_in_use`; we wait and ask again, so
// the second caller ends with the same answer instead of an error. No database connection or lock
// is held meanwhile: the caller has committed its intent before calling.
import { isKeyInUse } from './errors.ts';

/** How long a second request waits for the first with the same key (Stripe's own timeout is 80 s). */
const WAIT_FOR_SAME_KEY_MS = 90_000;

export async function sendKeyed<T>(request: () => Promise<T>, waitMs = WAIT_FOR_SAME_KEY_MS): Promise<T> {
  const deadline = Date.now() + waitMs;
  for (let pause = 100; ; pause = Math.min(pause * 2, 2_000)) {
    try {
      return await request();
    } catch (error) {
      if (!isKeyInUse(error) || Date.now() + pause > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
}
