// The coalescing NOTIFY of the webhook routes (src/webhooks/announce.ts): every announcement is
// followed by a send that starts after it, however many arrive while one is in flight, a failed
// send does not stop the next, and sends start at least the minimum gap apart.
import { afterEach, describe, expect, it, vi } from 'vitest';
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

  describe('with a minimum gap between sends', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it('sends the first announcement at once and the ones during a busy spell together, once the gap has passed', async () => {
      vi.useFakeTimers();
      const manual = manualSend();
      const announcer = coalescingAnnouncer(manual.send, () => {}, { minGapMs: 20 });
      announcer.announce();
      expect(manual.started()).toBe(1);
      await vi.advanceTimersByTimeAsync(2);
      await manual.settleNext();
      for (let i = 0; i < 50; i++) announcer.announce();
      await vi.advanceTimersByTimeAsync(17); // 19 ms after the first send started
      expect(manual.started()).toBe(1);
      await vi.advanceTimersByTimeAsync(1);
      expect(manual.started()).toBe(2);
      await manual.settleNext();
      expect(manual.waiting()).toBe(0);
      await vi.advanceTimersByTimeAsync(100);
      expect(manual.started()).toBe(2);
      await announcer.settled();
    });

    it('does not hold back an announcement that comes after a quiet spell', async () => {
      vi.useFakeTimers();
      const manual = manualSend();
      const announcer = coalescingAnnouncer(manual.send, () => {}, { minGapMs: 20 });
      announcer.announce();
      await manual.settleNext();
      await vi.advanceTimersByTimeAsync(25);
      announcer.announce();
      expect(manual.started()).toBe(2);
      await manual.settleNext();
      await announcer.settled();
    });

    it('an announcement made while the next send waits out the gap is covered by that send', async () => {
      vi.useFakeTimers();
      const manual = manualSend();
      const announcer = coalescingAnnouncer(manual.send, () => {}, { minGapMs: 20 });
      announcer.announce();
      announcer.announce(); // during the first send: asks for a second
      await manual.settleNext();
      await vi.advanceTimersByTimeAsync(10);
      announcer.announce(); // while the second waits for the gap: no third
      await vi.advanceTimersByTimeAsync(10);
      expect(manual.started()).toBe(2);
      await manual.settleNext();
      await vi.advanceTimersByTimeAsync(100);
      expect(manual.started()).toBe(2);
      await announcer.settled();
    });
  });
});
