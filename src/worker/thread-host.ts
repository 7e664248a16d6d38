// Starts ./thread.ts in a worker thread and gives it the RunningWorker face the in-process worker
// has: wake() and stop(). Used by `npm start` (src/server.ts, role `all`) when the database is a
// PostgreSQL server; the embedded PGlite lives inside one thread, so there the worker stays in-process.
//
// A thread that ends without being asked to (an uncaught exception in a timer, ERR_WORKER_OUT_OF_MEMORY)
// is logged as an error and replaced by a new one after a backoff (1 s doubling to 1 min; a thread
// that ran for 5 min starts the count again). Restarting here rather than exiting the process: this
// host runs only in role `all` (`npm start`), usually with no supervisor to start the process again,
// and the web half of the process is unharmed, so exiting would take pages and webhook intake down
// for a fault of the background half. The worker is built to be replaced at any point (claims with
// leases, every step keyed and committed), as a crashed `worker` process is in production. In
// between, `state()` says `restarting` (shown by /readyz).
import { Worker } from 'node:worker_threads';
import type { Config } from '../config.ts';
import type { StripeClientOptions } from '../stripe/client.ts';
import type { WorkerThreadData, WorkerThreadMessage } from './thread.ts';
import type { RunningWorker } from './worker.ts';

/** How long stop() waits for the batch in hand before ending the thread anyway. */
const STOP_TIMEOUT_MS = 15_000;

export interface WorkerThreadOptions {
  /** The wait before the first restart after a crash; doubles with each crash in a row. */
  restartDelayMs?: number;
  /** The longest wait between restarts. */
  maxRestartDelayMs?: number;
  /** A thread that ran this long before it died starts the count of crashes in a row again. */
  stableMs?: number;
}

/** Whether a worker thread is running now, or being replaced after one died. */
export type WorkerThreadState = 'running' | 'restarting';

export interface RunningWorkerThread extends RunningWorker {
  state(): WorkerThreadState;
  /** Threads started after one died, since start. */
  restarts(): number;
}

/** One thread, from its start to its exit. */
interface Thread {
  worker: Worker;
  id: string;
  readyAt: number;
  exited: Promise<void>;
  stopped?: () => void;
}

/**
 * The thread's module. `npm start` runs bundles (src/cli/start.mjs), which builds the thread's own
 * bundle and names it in MARKETPLACE_WORKER_THREAD; compiled (dist/) and under tsx it sits beside this file.
 */
function threadEntry(): URL {
  const bundled = process.env.MARKETPLACE_WORKER_THREAD;
  if (bundled !== undefined && bundled !== '') return new URL(`file://${bundled}`);
  return new URL(import.meta.url.endsWith('.ts') ? './thread.ts' : './thread.js', import.meta.url);
}

export async function startWorkerThread(
  config: Config,
  stripe: StripeClientOptions,
  writeLog: (line: string) => void,
  options: WorkerThreadOptions = {},
): Promise<RunningWorkerThread> {
  const entry = threadEntry();
  const restartDelayMs = options.restartDelayMs ?? 1_000;
  const maxRestartDelayMs = options.maxRestartDelayMs ?? 60_000;
  const stableMs = options.stableMs ?? 5 * 60_000;
  const log = (level: 30 | 50, msg: string, fields: Record<string, unknown> = {}) =>
    writeLog(`${JSON.stringify({ level, time: Date.now(), name: 'worker', ...fields, msg })}\n`);

  let stopping = false;
  let current: Thread | undefined;
  let lastId = '';
  let crashesInRow = 0;
  let restarts = 0;
  let restartTimer: NodeJS.Timeout | undefined;
  /** A replacement being started (stop() waits for it, then stops it). */
  let replacing: Promise<void> | undefined;

  /** A new thread, once it said it is ready; rejects if it fails or ends before that. */
  function launch(): Promise<Thread> {
    const worker = new Worker(entry, { workerData: { config, stripe } satisfies WorkerThreadData });
    return new Promise<Thread>((resolve, reject) => {
      let thread: Thread | undefined;
      const exited = new Promise<void>((resolveExit) =>
        worker.once('exit', (code) => {
          resolveExit();
          if (thread === undefined) reject(new Error(`the worker thread exited with ${code} before it was ready`));
          else if (!stopping && current === thread) died(thread, code);
        }),
      );
      worker.on('error', (error) => {
        if (thread === undefined) reject(error);
        else log(50, `the worker thread failed: ${error.message}`, { err: { type: error.name, message: error.message, stack: error.stack } });
      });
      worker.on('message', (message: WorkerThreadMessage) => {
        if (message === 'stopped') thread?.stopped?.();
        else if ('log' in message) writeLog(message.log);
        else if (thread === undefined) {
          thread = { worker, id: message.ready, readyAt: Date.now(), exited };
          resolve(thread);
        }
      });
    });
  }

  /** The thread ended on its own: log it, and start another after the backoff. */
  function died(thread: Thread, code: number): void {
    current = undefined;
    if (Date.now() - thread.readyAt >= stableMs) crashesInRow = 0;
    crashesInRow += 1;
    scheduleRestart(`the worker thread ${thread.id} exited unexpectedly with code ${code}`, { exitCode: code });
  }

  function scheduleRestart(why: string, fields: Record<string, unknown> = {}): void {
    const delayMs = Math.min(maxRestartDelayMs, restartDelayMs * 2 ** (crashesInRow - 1));
    log(50, `${why}: webhook events, email and reconciliation wait; a new thread starts in ${delayMs} ms`, { ...fields, crashesInRow, restartInMs: delayMs });
    restartTimer = setTimeout(() => {
      restartTimer = undefined;
      replacing = replace().finally(() => {
        replacing = undefined;
      });
    }, delayMs);
  }

  async function replace(): Promise<void> {
    if (stopping) return;
    let thread: Thread;
    try {
      thread = await launch();
    } catch (error) {
      crashesInRow += 1;
      if (!stopping) scheduleRestart(`a new worker thread could not start (${error instanceof Error ? error.message : String(error)})`);
      return;
    }
    if (stopping) return stopThread(thread);
    restarts += 1;
    current = thread;
    lastId = thread.id;
    log(30, `the worker thread is running again (${thread.id})`, { restarts });
  }

  async function stopThread(thread: Thread): Promise<void> {
    const done = new Promise<void>((resolve) => {
      thread.stopped = resolve;
    });
    thread.worker.postMessage('stop');
    const timer = setTimeout(() => void thread.worker.terminate(), STOP_TIMEOUT_MS);
    await Promise.race([done.then(() => thread.exited), thread.exited]);
    clearTimeout(timer);
  }

  current = await launch();
  lastId = current.id;
  return {
    /** The running thread's worker id (the last one's while it is being replaced). */
    get workerId() {
      return current?.id ?? lastId;
    },
    wake: () => current?.worker.postMessage('wake'),
    state: () => (current !== undefined ? 'running' : 'restarting'),
    restarts: () => restarts,
    async stop() {
      stopping = true;
      clearTimeout(restartTimer);
      await replacing;
      const thread = current;
      current = undefined;
      if (thread !== undefined) await stopThread(thread);
    },
  };
}
