// `npm run admin:create` applies sign-up's checks (issue #14 leftover): a weak password or a name
// with invisible characters is refused before the database is even opened.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function createAdmin(args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    // An unreachable database: a refusal must come before any connection (and a bug that skipped
    // the checks would fail on the connection with another message).
    const env = { ...process.env, DATABASE_URL: 'postgres://nobody@127.0.0.1:9/none', LOG_LEVEL: 'silent' };
    execFile(process.execPath, ['--import', 'tsx', 'src/cli/create-admin.ts', ...args], { cwd: ROOT, env }, (error, _stdout, stderr) => {
      resolve({ code: typeof error?.code === 'number' ? error.code : 0, stderr });
    });
  });
}

describe('admin:create', () => {
  it.each([
    [['--email', 'boss@example.test', '--password', 'aaaaaaaaaaaa'], '--password:'],
    [['--email', 'boss@example.test', '--password', '1234567890'], '--password:'],
    [['--email', 'boss@example.test', '--password', 'boss@example.test'], '--password:'],
    [['--email', 'boss@example.test', '--password', 'plum-kettle-harbour-91', '--name', '\u202eAdmin\u200b'], '--name:'],
    [['--email', 'boss@example.test', '--password', 'plum-kettle\u0007-harbour-91'], 'control characters'],
  ])('refuses %j', async (args, message) => {
    const result = await createAdmin(args);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(message);
  });
});
