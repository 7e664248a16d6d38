/**
 * Emulator time = real time + offset (seconds). Advancing it runs the registered tickers at every
 * UTC midnight crossed and then at the target time, in registration order.
 */
export const DAY = 86_400;

export interface TickInfo {
  /** Emulator time of the previous tick. */
  from: number;
  /** True when `now` is exactly a UTC midnight (payout schedules run on these). */
  midnight: boolean;
}

export type Ticker = (now: number, info: TickInfo) => void | Promise<void>;

export function startOfDay(t: number): number {
  return Math.floor(t / DAY) * DAY;
}

export class Clock {
  offset = 0;
  private tickers: Array<{ name: string; fn: Ticker }> = [];
  private lastTick: number;
  private running: Promise<void> = Promise.resolve();

  constructor(offset = 0) {
    this.offset = offset;
    this.lastTick = this.now();
  }

  /** Forget past ticks (after loading state or a reset): scheduled work resumes from now. */
  syncLastTick(): void {
    this.lastTick = this.now();
  }

  /** Current emulator time, unix seconds. */
  now(): number {
    return Math.floor(Date.now() / 1000) + this.offset;
  }

  onTick(name: string, fn: Ticker): void {
    this.tickers.push({ name, fn });
  }

  /** Move time forward by `seconds` and run scheduled work. Resolves when all tickers ran. */
  advance(seconds: number): Promise<number> {
    const run = this.running.then(async () => {
      const target = this.now() + Math.max(0, Math.floor(seconds));
      await this.runUntil(target);
      return this.now();
    });
    this.running = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** Run tickers for real time that passed (called periodically when a tick interval is set). */
  tick(): Promise<void> {
    const run = this.running.then(() => this.runUntil(this.now()));
    this.running = run.catch(() => undefined);
    return run;
  }

  private async runUntil(target: number): Promise<void> {
    let from = this.lastTick;
    let nextMidnight = startOfDay(from) + DAY;
    while (nextMidnight <= target) {
      this.offset = nextMidnight - Math.floor(Date.now() / 1000);
      await this.runTickers(nextMidnight, { from, midnight: true });
      from = nextMidnight;
      nextMidnight += DAY;
    }
    this.offset = target - Math.floor(Date.now() / 1000);
    await this.runTickers(target, { from, midnight: false });
  }

  private async runTickers(now: number, info: TickInfo): Promise<void> {
    for (const t of this.tickers) {
      try {
        await t.fn(now, info);
      } catch (err) {
        console.error(`[stripe-emulator] ticker ${t.name} failed:`, err);
      }
    }
    this.lastTick = now;
  }
}
