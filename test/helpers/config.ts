// Reading the configuration in tests: a fresh data directory for each load, and the problems a
// rejected environment is named with.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config.ts';

/** A new, empty DATA_DIR (where the configuration keeps the local secrets it invents). */
export const dataDir = (): string => mkdtempSync(join(tmpdir(), 'config-test-'));

/** The problems `loadConfig` names for `env` (with a fresh DATA_DIR); none when it accepts it. */
export function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig({ DATA_DIR: dataDir(), ...env });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}
