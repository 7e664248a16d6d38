// `npm start` in a terminal: log lines are for people (pino-pretty), one per request.
import { afterAll, describe, expect, it } from 'vitest';
import { startEntryPoint, type RunningEntryPoint } from '../helpers/entry-point.ts';

describe('start-up in a terminal', () => {
  const servers: RunningEntryPoint[] = [];
  afterAll(async () => { await Promise.all(servers.map((server) => server.stop())); });

  it('prints readable log lines, one per request, and no JSON', async () => {
    const server = await startEntryPoint({ tty: true, env: { LOG_LEVEL: 'info' } });
    servers.push(server);
    await server.waitForOutput('buyer@demo.test');

    expect((await fetch(`http://127.0.0.1:${server.port}/healthz`)).status).toBe(200);
    await server.waitForOutput('/healthz');
    // eslint-disable-next-line no-control-regex
    const plain = server.output().replace(/\u001b\[[0-9;]*m/g, '');
    expect(plain).toMatch(/INFO: GET \/healthz → 200 \(\d+ ms\)/);
    expect(plain).not.toContain('{"level"');
    expect(plain.match(/\/healthz/g)).toHaveLength(1);
  }, 120_000);
});
