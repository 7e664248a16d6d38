import { ConfigError } from '../config.ts';

/** Runs a command-line task: a clear one-line error and exit code 1 instead of a stack trace. */
export async function runCli(task: () => Promise<void>): Promise<void> {
  try {
    await task();
  } catch (error) {
    console.error(error instanceof ConfigError ? error.message : `Error: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
}
