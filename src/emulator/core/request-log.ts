/** The last API requests (`GET /_emulator/requests`): what tests check retries and keys with. */
import type { RequestLogEntry } from './types.ts';

const KEEP = 2000;

export class RequestLog {
  private entries: RequestLogEntry[] = [];

  /** Records a request as it arrives; the returned entry is updated as it is answered. */
  start(entry: RequestLogEntry): RequestLogEntry {
    this.entries.push(entry);
    if (this.entries.length > KEEP) this.entries.splice(0, this.entries.length - KEEP);
    return entry;
  }

  all(): RequestLogEntry[] {
    return [...this.entries];
  }

  clear(): void {
    this.entries = [];
  }
}
