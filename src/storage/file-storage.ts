// Objects as files under one directory (DATA_DIR/uploads by default). A write goes to a temporary
// file first and is renamed into place, so a reader sees the old object or the new one, never half.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, extname, join } from 'node:path';
import { assertSafeKey, type ObjectStorage, type StoredObject } from './storage.ts';

const TYPES_BY_EXTENSION: Record<string, string> = {
  '.webp': 'image/webp',
  '.jpg': 'image/jpeg',
  '.png': 'image/png',
};

export class FileStorage implements ObjectStorage {
  constructor(private readonly root: string) {}

  get description(): string {
    return `files in ${this.root}`;
  }

  async put(key: string, body: Buffer, _contentType: string): Promise<void> {
    const path = this.pathOf(key);
    await mkdir(dirname(path), { recursive: true });
    const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    await writeFile(temporary, body);
    await rename(temporary, path);
  }

  async get(key: string): Promise<StoredObject | undefined> {
    try {
      const body = await readFile(this.pathOf(key));
      return { body, contentType: TYPES_BY_EXTENSION[extname(key)] ?? 'application/octet-stream' };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }

  private pathOf(key: string): string {
    assertSafeKey(key);
    return join(this.root, key);
  }
}
