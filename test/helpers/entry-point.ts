// Runs the real `npm start` entry point (the command in package.json's "start" script) as a child
// process, offline by default, in its own data directory and on free ports: what a developer gets
// after `npm ci && npm start`. Waits for what it prints, never for a fixed time.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'vitest';
import { freePort } from './ports.ts';

// Kept here too for the files that took it from this module first.
export { freePort };

const ROOT = resolve(import.meta.dirname, '../..');
const START_SCRIPT = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;

/** Variables a developer's shell may have that would take the server out of offline mode or change its address. */
const INHERITED_SETTINGS = [
  'DATABASE_URL',
  'STRIPE_SECRET_KEY',
  'STRIPE_PUBLISHABLE_KEY',
  'STRIPE_WEBHOOK_SECRET',
  'STRIPE_CONNECT_WEBHOOK_SECRET',
  'PUBLIC_URL',
  'HOST',
  'NODE_ENV',
  'DEMO',
  'DEMO_SEED',
  'LOG_LEVEL',
];

export interface RunningEntryPoint {
  port: number;
  emulatorPort: number;
  dataDir: string;
  /** Everything printed so far, stdout and stderr interleaved as they arrived. */
  output(): string;
  /** Resolves when the output contains `text`; rejects if the process exits first. */
  waitForOutput(text: string | RegExp): Promise<void>;
  /** The exit code, once it exits. */
  exited: Promise<number | null>;
  /** SIGTERM (or `signal`), then waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function startEntryPoint(
  options: { env?: Record<string, string>; dataDir?: string; tty?: boolean; port?: number } = {},
): Promise<RunningEntryPoint> {
  const port = options.port ?? (await freePort());
  const emulatorPort = await freePort();
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'entry-point-'));
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of INHERITED_SETTINGS) delete env[name];
  Object.assign(
    env,
    { PORT: String(port), EMULATOR_PORT: String(emulatorPort), DATA_DIR: dataDir, PATH: `${join(ROOT, 'node_modules/.bin')}:${process.env.PATH ?? ''}` },
    options.env,
  );

  // `script` gives the command a pseudo-terminal, as when someone types `npm start` in a terminal.
  const command = `exec ${START_SCRIPT}`;
  const child: ChildProcess =
    options.tty === true
      ? spawn('script', ['--quiet', '--return', '--flush', '--command', command, '/dev/null'], {
          cwd: ROOT,
          env,
          stdio: ['pipe', 'pipe', 'pipe'],
          detached: true,
        })
      : spawn('sh', ['-c', command], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });

  let output = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    output += chunk.toString('utf8');
    for (const listener of listeners) listener();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));
  let hasExited = false;
  void exited.then(() => {
    hasExited = true;
    for (const listener of listeners) listener();
  });

  const waitForOutput = (text: string | RegExp) =>
    new Promise<void>((resolveWait, reject) => {
      const check = () => {
        if (typeof text === 'string' ? output.includes(text) : text.test(output)) {
          listeners.delete(check);
          resolveWait();
        } else if (hasExited) {
          listeners.delete(check);
          reject(new Error(`the server exited (${child.exitCode}) before printing ${String(text)}:\n${output}`));
        }
      };
      listeners.add(check);
      check();
    });

  return {
    port,
    emulatorPort,
    dataDir,
    output: () => output,
    waitForOutput,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      // The whole group: with a terminal, `script` and the server under it.
      try {
        if (!hasExited) process.kill(-child.pid!, signal);
      } catch {
        // already gone
      }
      return exited;
    },
  };
}

/** `test` with `startServer`: `startEntryPoint`, and every server it started is stopped when the file is done. */
// eslint-disable-next-line no-empty-pattern -- vitest reads a fixture's dependencies from this pattern: it has none
export const entryPointTest = test.extend('startServer', { scope: 'file' }, ({}, { onCleanup }) => {
  const servers: RunningEntryPoint[] = [];
  onCleanup(async () => {
    await Promise.all(servers.map((server) => server.stop()));
  });
  return async (options: Parameters<typeof startEntryPoint>[0] = {}) => {
    const server = await startEntryPoint(options);
    servers.push(server);
    return server;
  };
});
