// The worker thread of `npm start` (src/worker/thread-host.ts) dies — an uncaught exception in a
// timer — and is replaced after a backoff, with an error logged, while /readyz says it is being
// replaced; stop() during the wait starts nothing more. The thread here is a stand-in speaking the
// real thread's protocol (DYING_THREAD, named the way `npm start` names its bundle), so the test
// can make a real thread die whenever it wants.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { createStripeClient } from '../../src/stripe/client.ts';
import { startWorkerThread, type RunningWorkerThread, type WorkerThreadOptions } from '../../src/worker/thread-host.ts';
import { testConfig } from '../helpers/app.ts';
import { useDatabase } from '../helpers/fixture.ts';

/**
 * A stand-in for src/worker/thread.ts: the same protocol with the host ('ready' with an id, log
 * lines, 'stopped' after 'stop'), and a 'wake' makes it throw from a timer — an uncaught exception,
 * as a real bug in a timer path would be. Plain JavaScript: a thread cannot load TypeScript.
 */
const DYING_THREAD = `
import { parentPort, threadId } from 'node:worker_threads';
const id = 'dying-thread-' + threadId;
const log = (msg) => parentPort.postMessage({ log: JSON.stringify({ level: 30, msg }) + '\\n' });
parentPort.on('message', (message) => {
  if (message === 'wake') {
    setTimeout(() => {
      throw new Error(id + ' failed in a timer');
    });
  }
  if (message === 'stop') {
    log(id + ' stopped');
    parentPort.postMessage('stopped');
    parentPort.close();
  }
});
log(id + ' started');
parentPort.postMessage({ ready: id });
`;
const threadFile = join(mkdtempSync(join(tmpdir(), 'dying-thread-')), 'dying-thread.mjs');
writeFileSync(threadFile, DYING_THREAD);
process.env.MARKETPLACE_WORKER_THREAD = threadFile;

const config = testConfig();
const stripeOptions = { secretKey: 'sk_test_unused', emulator: { host: '127.0.0.1', port: 9 }, maxNetworkRetries: 0 };

interface LogLine {
  level: number;
  msg: string;
  restartInMs?: number;
  exitCode?: number;
}

/** A host over the stand-in thread, with every log line it wrote (the threads' and its own). */
async function host(options: WorkerThreadOptions) {
  const lines: LogLine[] = [];
  const worker = await startWorkerThread(config, stripeOptions, (line) => lines.push(JSON.parse(line) as LogLine), options);
  const started = () => lines.filter((l) => l.msg.endsWith(' started')).length;
  return { worker, lines, started };
}

async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('a worker thread that dies', () => {
  it('is replaced after a backoff that doubles while it keeps dying, each death logged as an error', async () => {
    const { worker, lines, started } = await host({ restartDelayMs: 50, maxRestartDelayMs: 150 });
    try {
      const first = worker.workerId;
      for (let death = 1; death <= 4; death++) {
        worker.wake(); // the stand-in throws from a timer: the thread dies
        await until(() => started() === death + 1, `thread ${death + 1}`);
        await until(() => worker.state() === 'running', `thread ${death + 1} to be running`);
      }
      expect(worker.workerId).not.toBe(first);
      expect(worker.restarts()).toBe(4);
      const deaths = lines.filter((l) => l.msg.includes('exited unexpectedly'));
      expect(deaths.map((l) => [l.level, l.exitCode, l.restartInMs])).toEqual([
        [50, 1, 50],
        [50, 1, 100],
        [50, 1, 150],
        [50, 1, 150],
      ]);
      expect(lines.filter((l) => l.level === 50 && l.msg.includes('failed in a timer'))).toHaveLength(4);
    } finally {
      await worker.stop();
    }
  });

  it('a thread that ran a while before it died starts the backoff again', async () => {
    const { worker, lines, started } = await host({ restartDelayMs: 50, stableMs: 0 });
    try {
      for (let death = 1; death <= 3; death++) {
        worker.wake();
        await until(() => started() === death + 1 && worker.state() === 'running', `thread ${death + 1}`);
      }
      expect(lines.filter((l) => l.msg.includes('exited unexpectedly')).map((l) => l.restartInMs)).toEqual([50, 50, 50]);
    } finally {
      await worker.stop();
    }
  });

  it('stop() while a replacement waits starts nothing more, and stops a running one as before', async () => {
    const { worker, lines, started } = await host({ restartDelayMs: 60_000 });
    worker.wake();
    await until(() => worker.state() === 'restarting', 'the thread to die');
    await worker.stop();
    expect(started()).toBe(1);

    const again = await host({ restartDelayMs: 50 });
    await again.worker.stop();
    expect(again.lines.map((l) => l.msg)).toEqual([expect.stringMatching(/started$/), expect.stringMatching(/stopped$/)]);
    expect(lines.filter((l) => l.msg.includes('running again'))).toEqual([]);
  });
});

describe('/readyz', () => {
  const database = useDatabase();
  let worker: RunningWorkerThread;
  let app: Awaited<ReturnType<typeof buildApp>>;
  beforeAll(async () => {
    worker = (await host({ restartDelayMs: 60_000 })).worker;
    app = await buildApp({
      config,
      db: database.db,
      stripe: createStripeClient(stripeOptions),
      logger: false,
      workerState: () => worker.state(),
    });
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
    await worker?.stop();
  });

  it('says the worker thread is running, then being replaced after it died (still 200: pages and webhooks work)', async () => {
    const ready = await app.inject('/readyz');
    expect([ready.statusCode, ready.json()]).toEqual([200, { status: 'ready', worker: 'running' }]);
    worker.wake();
    await until(() => worker.state() === 'restarting', 'the thread to die');
    const replacing = await app.inject('/readyz');
    expect([replacing.statusCode, replacing.json()]).toEqual([200, { status: 'ready', worker: 'restarting' }]);
  });
});
