/**
 * The state file (offline mode): one JSON document with every object, the idempotency keys of
 * the last 24 h, the clock offset and the webhook endpoints. Written atomically (temp file +
 * rename), 200 ms after the last change and on stop; read once at start.
 */
import { readFileSync, writeFileSync, renameSync, existsSync } from 'node:fs';
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

const SAVE_DELAY_MS = 200;

export class StateFile {
  private saveTimer: NodeJS.Timeout | undefined;

  /** `file` undefined: in memory, every call is a no-op. */
  constructor(
    private readonly file: string | undefined,
    private readonly snapshot: () => Omit<PersistedState, 'version' | 'savedAt'>,
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
      try {
        this.saveNow();
      } catch (err) {
        console.error(`[stripe-emulator] could not save state to ${this.file}:`, err);
      }
    }, SAVE_DELAY_MS);
    this.saveTimer.unref();
  }

  saveNow(): void {
    const file = this.file;
    if (!file) return;
    if (this.saveTimer) {
      clearTimeout(this.saveTimer);
      this.saveTimer = undefined;
    }
    const state: PersistedState = { version: 1, savedAt: new Date().toISOString(), ...this.snapshot() };
    const tmp = `${file}.tmp-${process.pid}`;
    writeFileSync(tmp, JSON.stringify(state));
    renameSync(tmp, file);
  }
}
