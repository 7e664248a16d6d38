/**
 * The state file (offline mode): one JSON document with every object, the idempotency keys of
 * the last 24 h, the clock offset and the webhook endpoints. Written atomically (temp file +
 * rename), 200 ms after a change and on stop; read once at start.
 *
 * Offline, the emulator runs in the app's process and the file grows with use (megabytes after
 * a few thousand payments), so the saves that follow changes write in the background: the
 * event loop only pays for assembling the JSON, mostly from cached parts.
 */
import { readFileSync, writeFileSync, renameSync, existsSync } from 'node:fs';
import { writeFile, rename, unlink } from 'node:fs/promises';
import type { SerializedStore } from './store.ts';
import type { IdempotencyEntry } from './idempotency.ts';
import type { WebhookConfig } from './webhooks.ts';

export interface PersistedState {
  version: 1;
  savedAt: string;
  platformAccount: string;
  clockOffset: number;
  store: SerializedStore;
  idempotency: Array<[string, IdempotencyEntry]>;
  webhooks: WebhookConfig;
}

/** What a save writes; the two large parts come already serialised (see Store.serializeJson). */
export interface StateSnapshot {
  platformAccount: string;
  clockOffset: number;
  /** JSON of a `SerializedStore`. */
  storeJson: string;
  /** JSON of the `idempotency` entries. */
  idempotencyJson: string;
  webhooks: WebhookConfig;
}

const SAVE_DELAY_MS = 200;

export class StateFile {
  private saveTimer: NodeJS.Timeout | undefined;
  /** The background write in progress, if any. */
  private writing: Promise<void> | undefined;
  /** A change arrived while writing: save again afterwards. */
  private saveAgain = false;
  /** Bumped by every save, so an older background write never replaces a newer file. */
  private generation = 0;
  private tmpCounter = 0;

  /** `file` undefined: in memory, every call is a no-op. */
  constructor(
    private readonly file: string | undefined,
    private readonly snapshot: () => StateSnapshot,
  ) {}

  read(): PersistedState | undefined {
    const file = this.file;
    if (!file || !existsSync(file)) return undefined;
    const state = JSON.parse(readFileSync(file, 'utf8')) as PersistedState;
    if (state.version !== 1) throw new Error(`unsupported emulator state version in ${file}`);
    return state;
  }

  /** Save soon (changes come in bursts: one request writes several objects). */
  scheduleSave(): void {
    if (!this.file || this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      this.saveInBackground();
    }, SAVE_DELAY_MS);
    this.saveTimer.unref();
  }

  /** Write the file now, synchronously (after any background write has been overtaken). */
  saveNow(): void {
    const file = this.file;
    if (!file) return;
    this.cancelTimer();
    this.generation += 1;
    const tmp = this.tmpName(file);
    writeFileSync(tmp, this.json());
    renameSync(tmp, file);
  }

  /** Stop saving in the background, wait for a write in progress, then save once more. */
  async close(): Promise<void> {
    this.cancelTimer();
    await this.writing;
    this.saveNow();
  }

  private saveInBackground(): void {
    const file = this.file;
    if (!file) return;
    if (this.writing) {
      this.saveAgain = true;
      return;
    }
    const generation = ++this.generation;
    const tmp = this.tmpName(file);
    const json = this.json();
    this.writing = writeFile(tmp, json)
      .then(async () => {
        if (generation === this.generation) await rename(tmp, file);
        else await unlink(tmp);
      })
      .catch((err: unknown) => console.error(`[stripe-emulator] could not save state to ${file}:`, err))
      .finally(() => {
        this.writing = undefined;
        if (this.saveAgain) {
          this.saveAgain = false;
          this.scheduleSave();
        }
      });
  }

  private json(): string {
    const snap = this.snapshot();
    const head = JSON.stringify({ version: 1, savedAt: new Date().toISOString(), platformAccount: snap.platformAccount, clockOffset: snap.clockOffset });
    // The same document as JSON.stringify(PersistedState), assembled from its serialised parts.
    return `${head.slice(0, -1)},"store":${snap.storeJson},"idempotency":${snap.idempotencyJson},"webhooks":${JSON.stringify(snap.webhooks)}}`;
  }

  private tmpName(file: string): string {
    this.tmpCounter += 1;
    return `${file}.tmp-${process.pid}-${this.tmpCounter}`;
  }

  private cancelTimer(): void {
    if (this.saveTimer) {
      clearTimeout(this.saveTimer);
      this.saveTimer = undefined;
    }
  }
}
