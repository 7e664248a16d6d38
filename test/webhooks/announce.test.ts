// The coalescing NOTIFY of the webhook routes (src/webhooks/announce.ts): every announcement is
// followed by a send that starts after it, however many arrive while one is in flight, and a failed
// send does not stop the next.
import { describe, expect, it } from 'vitest';
import { coalescingAnnouncer } from '../../src/webhooks/announce.ts';

/** A send whose calls the test finishes by hand, in order. */
function manualSend() {
  const pending: { resolve: () => void; reject: (error: Error) => void }[] = [];
  let started = 0;
  const send = () =>
    new Promise<void>((resolve, reject) => {
      started += 1;
      pending.push({ resolve, reject });
    });
  const settleNext = async (failure?: Error) => {
    const call = pending.shift()!;
    if (failure === undefined) call.resolve();
    else call.reject(failure);
    // Let the announcer's continuation run.
    for (let i = 0; i < 5; i++) await Promise.resolve();
  };
  return { send, settleNext, started: () => started, waiting: () => pending.length };
}

describe('coalescingAnnouncer', () => {
  it('sends at once when idle, and once more for any number of announcements made meanwhile', async () => {
    const manual = manualSend();
    const announcer = coalescingAnnouncer(manual.send, () => {});
    announcer.announce();
    expect(manual.started()).toBe(1);
    for (let i = 0; i < 10; i++) announcer.announce();
    expect(manual.started()).toBe(1);
    await manual.settleNext();
    expect(manual.started()).toBe(2);
    await manual.settleNext();
    expect(manual.started()).toBe(2);
    expect(manual.waiting()).toBe(0);
    await announcer.settled();
  });

  it('does not send again when nothing was announced during the send', async () => {
    const manual = manualSend();
    const announcer = coalescingAnnouncer(manual.send, () => {});
    announcer.announce();
    await manual.settleNext();
    expect(manual.started()).toBe(1);
    announcer.announce();
    expect(manual.started()).toBe(2);
  });

  it('reports a failed send and still sends for what was announced during it', async () => {
    const manual = manualSend();
    const errors: unknown[] = [];
    const announcer = coalescingAnnouncer(manual.send, (error) => errors.push(error));
    announcer.announce();
    announcer.announce();
    await manual.settleNext(new Error('connection lost'));
    expect(errors).toHaveLength(1);
    expect(manual.started()).toBe(2);
    const settled = announcer.settled();
    await manual.settleNext();
    await settled;
  });
});
