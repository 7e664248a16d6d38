// Starts ./thread.ts in a worker thread and gives it the RunningWorker face the in-process worker
// has: wake() and stop(). Used by `npm start` (src/server.ts, role `all`) when the database is a
// PostgreSQL server; the embedded PGlite lives inside one thread, so there the worker stays in-process.
import { Worker } from 'node:worker_threads';
import type { Config } from '../config.ts';
import type { StripeClientOptions } from '../stripe/client.ts';
import type { WorkerThreadData, WorkerThreadMessage } from './thread.ts';
import type { RunningWorker } from './worker.ts';

/** How long stop() waits for the batch in hand before ending the thread anyway. */
const STOP_TIMEOUT_MS = 15_000;

/**
 * The thread's module. `npm start` runs bundles (src/cli/start.mjs), which builds the thread's own
 * bundle and names it in MARKETPLACE_WORKER_THREAD; compiled (dist/) and under tsx it sits beside this file.
 */
function threadEntry(): URL {
  const bundled = process.env.MARKETPLACE_WORKER_THREAD;
  if (bundled !== undefined && bundled !== '') return new URL(`file://${bundled}`);
  return new URL(import.meta.url.endsWith('.ts') ? './thread.ts' : './thread.js', import.meta.url);
}

export async function startWorkerThread(config: Config, stripe: StripeClientOptions, writeLog: (line: string) => void): Promise<RunningWorker> {
  const thread = new Worker(threadEntry(), { workerData: { config, stripe } satisfies WorkerThreadData });
  let ready: { resolve: (id: string) => void; reject: (error: Error) => void } | undefined;
  let stopped: (() => void) | undefined;
  const exited = new Promise<void>((resolve) =>
    thread.once('exit', (code) => {
      ready?.reject(new Error(`the worker thread exited with ${code} before it was ready`));
      resolve();
    }),
  );
  thread.on('error', (error) => {
    if (ready !== undefined) ready.reject(error);
    else writeLog(`${JSON.stringify({ level: 50, name: 'worker', msg: `the worker thread failed: ${error.message}` })}\n`);
  });
  thread.on('message', (message: WorkerThreadMessage) => {
    if (message === 'stopped') stopped?.();
    else if ('log' in message) writeLog(message.log);
    else ready?.resolve(message.ready);
  });
  const workerId = await new Promise<string>((resolve, reject) => {
    ready = { resolve, reject };
  }).finally(() => {
    ready = undefined;
  });
  return {
    workerId,
    wake: () => thread.postMessage('wake'),
    async stop() {
      const done = new Promise<void>((resolve) => {
        stopped = resolve;
      });
      thread.postMessage('stop');
      const timer = setTimeout(() => void thread.terminate(), STOP_TIMEOUT_MS);
      await Promise.race([done.then(() => exited), exited]);
      clearTimeout(timer);
    },
  };
}
