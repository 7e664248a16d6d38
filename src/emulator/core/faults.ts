/**
 * Injected faults (`/_emulator/faults`): which request gets which fault, and the waiting that
 * `delay` and `timeout` need. Waits are timers, never busy loops, so other requests go on.
 * What each kind does to a request is decided in api-pipeline.ts.
 */
import type { Socket } from 'node:net';
import { randomToken } from './ids.ts';
import { FAULT_KINDS, type Fault, type FaultKind } from './types.ts';

export function isFaultKind(kind: string): kind is FaultKind {
  return (FAULT_KINDS as readonly string[]).includes(kind);
}

export class FaultInjector {
  private faults: Fault[] = [];
  private readonly heldSockets = new Set<Socket>();
  /** Requests waiting out a `delay` fault; `stop()` ends their wait (with `false`). */
  private readonly delayed = new Set<(proceed: boolean) => void>();
  private stopping = false;

  add(f: Omit<Fault, 'id'>): Fault {
    const fault: Fault = { ...f, id: `flt_${randomToken(10)}` };
    this.faults.push(fault);
    return fault;
  }

  list(): Fault[] {
    return this.faults.map((f) => ({ ...f }));
  }

  clear(): void {
    this.faults = [];
  }

  /** The first pending fault matching this request, with its count used up by one. */
  take(method: string, path: string): Fault | undefined {
    const f = this.faults.find((x) => x.count > 0 && (!x.method || x.method.toUpperCase() === method) && pathMatches(x.path, path));
    if (!f) return undefined;
    f.count -= 1;
    if (f.count <= 0) this.faults = this.faults.filter((x) => x !== f);
    return { ...f };
  }

  /** Wait `ms` on a timer. Resolves false when the emulator stops meanwhile. */
  wait(ms: number): Promise<boolean> {
    if (this.stopping) return Promise.resolve(false);
    return new Promise((resolve) => {
      const finish = (proceed: boolean): void => {
        clearTimeout(timer);
        this.delayed.delete(finish);
        resolve(proceed);
      };
      const timer = setTimeout(() => finish(true), ms);
      this.delayed.add(finish);
    });
  }

  /** Ends every `delay` in progress now: the held requests go on (a test releases them when it is ready). */
  release(): number {
    const held = [...this.delayed];
    for (const finish of held) finish(true);
    return held.length;
  }

  /** `timeout`: keep the connection open without answering, then close it after `ms`. */
  holdOpen(socket: Socket, ms: number): void {
    this.heldSockets.add(socket);
    const timer = setTimeout(() => {
      socket.destroy();
      this.heldSockets.delete(socket);
    }, ms);
    timer.unref();
    socket.once('close', () => {
      clearTimeout(timer);
      this.heldSockets.delete(socket);
    });
  }

  stop(): void {
    this.stopping = true;
    for (const finish of [...this.delayed]) finish(false);
    for (const s of this.heldSockets) s.destroy();
    this.heldSockets.clear();
  }
}

/** Exact path, or any path below it; a trailing `*` makes a plain prefix. */
function pathMatches(pattern: string, path: string): boolean {
  if (pattern.endsWith('*')) return path.startsWith(pattern.slice(0, -1));
  return path === pattern || path.startsWith(pattern.endsWith('/') ? pattern : `${pattern}/`);
}
