import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { withFileLock } from './lock.ts';

/** A conditional put or delete found the item not in the expected state (DynamoDB's name). */
export class ConditionalCheckFailedError extends Error {
  constructor(table: string, key: string) {
    super(`condition failed for ${table} item ${key}`);
    this.name = 'ConditionalCheckFailedError';
  }
}

/** An item is a JSON object; its key is one or two of its attributes. */
export type Item = Record<string, unknown>;

/** The key schema of a table: a partition key and optionally a sort key, like DynamoDB. */
export interface KeySchema {
  readonly partitionKey: string;
  readonly sortKey?: string;
}

/** Decides whether a write may go ahead, given the item currently stored (or undefined). */
export type Condition<T extends object> = (current: T | undefined) => boolean;

interface TableFile<T> {
  readonly items: Record<string, T>;
}

const LOCK_STALE_MS = 30_000;

/**
 * A small file-backed table: one JSON file per table, written atomically (temp file + rename),
 * guarded by a lock file so concurrent processes serialise their read-modify-write. The local
 * stand-in for DynamoDB (release ledger and release lock).
 */
export class FileTable<T extends object> {
  readonly path: string;
  readonly name: string;
  private readonly schema: KeySchema;

  constructor(stateDir: string, name: string, schema: KeySchema) {
    if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new Error(`invalid table name ${name}`);
    this.name = name;
    this.path = join(stateDir, 'tables', `${name}.json`);
    this.schema = schema;
  }

  /** The storage key of an item (or key object); throws when a key attribute is missing. */
  keyOf(item: object): string {
    const parts = [this.schema.partitionKey, this.schema.sortKey].filter(
      (k): k is string => k !== undefined,
    );
    return JSON.stringify(
      parts.map((k) => {
        const v = (item as Item)[k];
        if (typeof v !== 'string' && typeof v !== 'number')
          throw new Error(`${this.name}: key attribute ${k} must be a string or number`);
        return v;
      }),
    );
  }

  private async load(): Promise<TableFile<T>> {
    try {
      return JSON.parse(await readFile(this.path, 'utf8')) as TableFile<T>;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { items: {} };
      throw err;
    }
  }

  private async save(data: TableFile<T>): Promise<void> {
    const tmp = `${this.path}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(tmp, `${JSON.stringify(data, null, 2)}\n`, { mode: 0o600 });
    await rename(tmp, this.path);
  }

  // The lock file holds our pid; a lock older than LOCK_STALE_MS is taken over (its holder
  // crashed mid-write: writes are tiny, so a live holder never takes that long).
  private async withLock<R>(body: () => Promise<R>, timeoutMs = 10_000): Promise<R> {
    return withFileLock(`${this.path}.lock`, body, { timeoutMs, staleMs: LOCK_STALE_MS });
  }

  /** The item with this key, or undefined. */
  async get(key: object): Promise<T | undefined> {
    const data = await this.load();
    return data.items[this.keyOf(key)];
  }

  /**
   * Under the lock: checks the condition against the item stored at `key` (throwing
   * ConditionalCheckFailedError when it is false), then hands the items and the key to `write`.
   */
  private async checked(
    key: object,
    condition: Condition<T> | undefined,
    write: (items: TableFile<T>['items'], k: string) => Promise<void>,
  ): Promise<void> {
    await this.withLock(async () => {
      const data = await this.load();
      const k = this.keyOf(key);
      if (condition && !condition(data.items[k]))
        throw new ConditionalCheckFailedError(this.name, k);
      await write(data.items, k);
    });
  }

  /** Stores an item; with a condition, throws ConditionalCheckFailedError when it is false. */
  async put(item: T, condition?: Condition<T>): Promise<void> {
    await this.checked(item, condition, (items, key) =>
      this.save({ items: { ...items, [key]: item } }),
    );
  }

  /**
   * Read-modify-write of one item under the lock: `fn` gets the current item and returns the
   * new one (or undefined to delete). Returns what was stored.
   */
  async update(key: object, fn: (current: T | undefined) => T | undefined): Promise<T | undefined> {
    return this.withLock(async () => {
      const data = await this.load();
      const k = this.keyOf(key);
      const next = fn(data.items[k]);
      const items = { ...data.items };
      if (next === undefined) delete items[k];
      else {
        if (this.keyOf(next) !== k) throw new Error(`${this.name}: update may not change the key`);
        items[k] = next;
      }
      await this.save({ items });
      return next;
    });
  }

  /**
   * Reads and writes several items as one, like TransactWriteItems: `body` sees the items as they
   * are and stages puts; they are stored together when it returns, and none when it throws.
   */
  async transact<R>(
    body: (view: { get(key: object): T | undefined; put(item: T): void }) => R,
  ): Promise<R> {
    return this.withLock(async () => {
      const data = await this.load();
      const items = { ...data.items };
      const result = body({
        get: (key) => items[this.keyOf(key)],
        put: (item) => {
          items[this.keyOf(item)] = item;
        },
      });
      await this.save({ items });
      return result;
    });
  }

  /** Deletes an item; with a condition, throws ConditionalCheckFailedError when it is false. */
  async delete(key: object, condition?: Condition<T>): Promise<void> {
    await this.checked(key, condition, async (stored, k) => {
      if (!(k in stored)) return;
      const items = { ...stored };
      delete items[k];
      await this.save({ items });
    });
  }

  /**
   * Items with this partition key value (all items when omitted), sorted by the sort key;
   * `descending` and `limit` behave like DynamoDB's ScanIndexForward=false and Limit.
   */
  async query(
    partitionValue?: string | number,
    opts: {
      readonly descending?: boolean;
      readonly limit?: number;
      readonly filter?: (item: T) => boolean;
    } = {},
  ): Promise<T[]> {
    const data = await this.load();
    const pk = this.schema.partitionKey;
    const sk = this.schema.sortKey;
    let items = Object.values(data.items).filter(
      (i) => partitionValue === undefined || (i as Item)[pk] === partitionValue,
    );
    if (sk) {
      items.sort((a, b) => {
        const x = (a as Item)[sk] as string | number;
        const y = (b as Item)[sk] as string | number;
        return x < y ? -1 : x > y ? 1 : 0;
      });
    }
    if (opts.descending) items.reverse();
    if (opts.filter) items = items.filter(opts.filter);
    return opts.limit === undefined ? items : items.slice(0, opts.limit);
  }
}
