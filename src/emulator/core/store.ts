/**
 * The emulator's state: every Stripe object lives in one record table keyed by id, owned by one
 * account (the platform or a connected account). Typed views over it are `Collection<T>`s.
 */
import { resourceMissing } from './errors.ts';

export interface StoredRecord {
  id: string;
  /** Collection name, normally the Stripe `object` value (`'payout'`, `'account'`, …). */
  type: string;
  /** Owning account id (platform or connected). */
  account: string;
  created: number;
  seq: number;
  data: unknown;
  /** Emulator-private fields that are not part of the Stripe object (never returned by the API). */
  internal: Record<string, unknown>;
}

export interface SerializedStore {
  seq: number;
  records: StoredRecord[];
  meta: Record<string, unknown>;
}

interface HasId {
  id: string;
}

function clone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

export class Store {
  private records = new Map<string, StoredRecord>();
  /** The same records by collection, so listing one type does not walk every object. */
  private byType = new Map<string, Map<string, StoredRecord>>();
  /**
   * Each record's JSON as last saved, so a save re-serialises only what changed (a state file
   * of thousands of objects is saved 200 ms after every change, in the app's process offline).
   */
  private savedJson = new Map<string, string>();
  private seq = 0;
  /** Free-form JSON-serialisable module state (persisted). */
  meta: Record<string, unknown> = {};
  /** Called after every mutation (used for debounced persistence). */
  onChange: () => void = () => {};

  collection<T extends HasId>(type: string, noun = type): Collection<T> {
    return new Collection<T>(this, type, noun);
  }

  /** Any object by id, in any collection; with `account` only when owned by that account. */
  getRecord(id: string, account?: string): StoredRecord | undefined {
    const r = this.records.get(id);
    if (!r) return undefined;
    if (account !== undefined && r.account !== account) return undefined;
    return r;
  }

  insertRecord(type: string, account: string, data: HasId, created: number, internal: Record<string, unknown>): StoredRecord {
    const rec: StoredRecord = { id: data.id, type, account, created, seq: ++this.seq, data: clone(data), internal };
    this.remove(data.id);
    this.add(rec);
    this.onChange();
    return rec;
  }

  replaceData(id: string, data: unknown): void {
    const r = this.records.get(id);
    if (!r) throw new Error(`store: no record ${id}`);
    r.data = clone(data);
    this.savedJson.delete(id);
    this.onChange();
  }

  /**
   * A record's live `internal` object. Whoever gets it may change it in place, so its saved
   * JSON is dropped (it is written again at the next save).
   */
  liveInternal(id: string): Record<string, unknown> | undefined {
    const r = this.records.get(id);
    if (!r) return undefined;
    this.savedJson.delete(id);
    return r.internal;
  }

  /** A record's `internal` changed in place: persist it. */
  internalChanged(id: string): void {
    this.savedJson.delete(id);
    this.onChange();
  }

  deleteRecord(id: string): void {
    if (this.remove(id)) this.onChange();
  }

  recordsOf(type: string): StoredRecord[] {
    const out = [...(this.byType.get(type)?.values() ?? [])];
    // newest first
    return out.sort((a, b) => b.created - a.created || b.seq - a.seq);
  }

  serialize(): SerializedStore {
    return { seq: this.seq, records: [...this.records.values()], meta: this.meta };
  }

  /** `JSON.stringify(this.serialize())`, reusing the JSON of records unchanged since the last call. */
  serializeJson(): string {
    const parts: string[] = [];
    for (const r of this.records.values()) {
      let json = this.savedJson.get(r.id);
      if (json === undefined) {
        json = JSON.stringify(r);
        this.savedJson.set(r.id, json);
      }
      parts.push(json);
    }
    return `{"seq":${this.seq},"records":[${parts.join(',')}],"meta":${JSON.stringify(this.meta)}}`;
  }

  load(s: SerializedStore): void {
    this.records = new Map();
    this.byType = new Map();
    this.savedJson = new Map();
    for (const r of s.records) this.add(r);
    this.seq = s.seq;
    this.meta = s.meta ?? {};
  }

  clear(): void {
    this.records.clear();
    this.byType.clear();
    this.savedJson.clear();
    this.seq = 0;
    this.meta = {};
    this.onChange();
  }

  private add(rec: StoredRecord): void {
    this.records.set(rec.id, rec);
    let ofType = this.byType.get(rec.type);
    if (!ofType) {
      ofType = new Map();
      this.byType.set(rec.type, ofType);
    }
    ofType.set(rec.id, rec);
  }

  private remove(id: string): boolean {
    const r = this.records.get(id);
    if (!r) return false;
    this.records.delete(id);
    this.byType.get(r.type)?.delete(id);
    this.savedJson.delete(id);
    return true;
  }
}

/** A typed view over one object type. All reads return deep copies; write back with `save`. */
export class Collection<T extends HasId> {
  constructor(
    private readonly store: Store,
    readonly type: string,
    readonly noun: string,
  ) {}

  insert(account: string, obj: T, opts: { created?: number; internal?: Record<string, unknown> } = {}): T {
    const c: unknown = (obj as { created?: unknown }).created;
    const created = opts.created ?? (typeof c === 'number' ? c : 0);
    this.store.insertRecord(this.type, account, obj, created, opts.internal ?? {});
    return clone(obj);
  }

  /** Object by id; with `account`, only if owned by that account. */
  get(id: string, account?: string): T | undefined {
    const r = this.store.getRecord(id, account);
    return r && r.type === this.type ? clone(r.data as T) : undefined;
  }

  /** Like `get` but throws Stripe's 404 `No such <noun>: 'id'` (param defaults to `id`). */
  require(id: string, account?: string, param = 'id'): T {
    const v = this.get(id, account);
    if (!v) throw resourceMissing(this.noun, id, param);
    return v;
  }

  ownerOf(id: string): string | undefined {
    const r = this.store.getRecord(id);
    return r && r.type === this.type ? r.account : undefined;
  }

  save(obj: T): T {
    const r = this.store.getRecord(obj.id);
    if (!r || r.type !== this.type) throw new Error(`store: no ${this.type} ${obj.id}`);
    this.store.replaceData(obj.id, obj);
    return clone(obj);
  }

  /** Read-modify-write; returns the new object. */
  update(id: string, fn: (obj: T) => T | void): T {
    const cur = this.get(id);
    if (!cur) throw resourceMissing(this.noun, id);
    const next = fn(cur) ?? cur;
    return this.save(next);
  }

  internal(id: string): Record<string, unknown> {
    const r = this.store.getRecord(id);
    if (!r || r.type !== this.type) throw new Error(`store: no ${this.type} ${id}`);
    return this.store.liveInternal(id) ?? r.internal;
  }

  setInternal(id: string, patch: Record<string, unknown>): void {
    const r = this.store.getRecord(id);
    if (!r || r.type !== this.type) throw new Error(`store: no ${this.type} ${id}`);
    Object.assign(r.internal, patch);
    this.store.internalChanged(id);
  }

  delete(id: string): void {
    this.store.deleteRecord(id);
  }

  /** All objects, newest first; with `account`, only that account's. */
  list(account?: string, filter?: (obj: T, internal: Record<string, unknown>) => boolean): T[] {
    const out: T[] = [];
    for (const r of this.store.recordsOf(this.type)) {
      if (account !== undefined && r.account !== account) continue;
      const data = r.data as T;
      if (filter && !filter(data, r.internal)) continue;
      out.push(clone(data));
    }
    return out;
  }
}
