// Runs once per `npm test`: picks the PostgreSQL the suite uses, migrates a template once, and
// hands each test file what it needs to get its own clone (see ./database.ts).
//   1. DATABASE_URL when set (CI always sets it);
//   2. else a throwaway PostgreSQL in a container when a Docker engine answers;
//   3. else PGlite, in memory.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { connectPglite, connectPostgres } from '../../src/db/connect.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseKind: 'postgres' | 'pglite';
    /** postgres: server URL plus the template database to clone. */
    postgresServerUrl: string;
    templateDatabase: string;
    /** pglite: a dump of the migrated template on disk. */
    pgliteTemplateFile: string;
  }
}

async function dockerAnswers(): Promise<boolean> {
  if (process.env.DOCKER_HOST === undefined && !existsSync('/var/run/docker.sock')) return false;
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let serverUrl = process.env.DATABASE_URL;
  let stopContainer: (() => Promise<void>) | undefined;
  let source = 'DATABASE_URL';

  if (serverUrl === undefined && (await dockerAnswers())) {
    const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
    const container = await new PostgreSqlContainer('postgres:16-alpine').start();
    serverUrl = container.getConnectionUri();
    stopContainer = async () => {
      await container.stop();
    };
    source = 'a testcontainers PostgreSQL';
  }

  if (serverUrl === undefined) {
    console.log('[test database] PGlite (embedded, in memory): no DATABASE_URL and no Docker engine. Tests that need a real server are skipped.');
    const template = await connectPglite();
    await migrateToLatest(template.db);
    const dump = await template.pglite.dumpDataDir('none');
    await template.close();
    const file = join(tmpdir(), `marketplace-template-${process.pid}-${randomBytes(4).toString('hex')}.tar`);
    await writeFile(file, Buffer.from(await dump.arrayBuffer()));
    project.provide('databaseKind', 'pglite');
    project.provide('pgliteTemplateFile', file);
    project.provide('postgresServerUrl', '');
    project.provide('templateDatabase', '');
    return async () => {};
  }

  const templateDatabase = `marketplace_template_${process.pid}_${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`create database ${templateDatabase}`);
  const template = connectPostgres(withDatabase(serverUrl, templateDatabase), { max: 1 });
  await migrateToLatest(template.db);
  await template.close();
  const { hostname, port } = new URL(serverUrl);
  console.log(`[test database] PostgreSQL from ${source} (${hostname}${port ? `:${port}` : ''}); template ${templateDatabase}`);

  project.provide('databaseKind', 'postgres');
  project.provide('postgresServerUrl', serverUrl);
  project.provide('templateDatabase', templateDatabase);
  project.provide('pgliteTemplateFile', '');

  return async () => {
    await admin.query(`drop database if exists ${templateDatabase} with (force)`);
    await admin.end();
    await stopContainer?.();
  };
}

export function withDatabase(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}
