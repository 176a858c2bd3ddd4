import type { Connection } from 'mysql2/promise';
import { describe, expect, it } from 'vitest';
import {
  addChunks,
  CHUNK_BYTES,
  chunkBoundaries,
  chunkConditions,
  chunkCount,
  chunkQuery,
  MAX_CHUNKS,
  rowChecksumExpression,
  runJobs,
  withReaders,
} from '#commons/table-content.ts';

describe('chunkCount', () => {
  it.each([
    { bytes: 0, chunks: 1 },
    { bytes: Number.NaN, chunks: 1 },
    { bytes: 16_384, chunks: 1 },
    { bytes: CHUNK_BYTES, chunks: 1 },
    { bytes: CHUNK_BYTES + 1, chunks: 2 },
    { bytes: 1_830_338_560, chunks: 110 },
    { bytes: 100 * 1024 ** 3, chunks: MAX_CHUNKS },
  ])('$bytes bytes of data: $chunks chunk(s)', ({ bytes, chunks }) => {
    // Prepare / Act / Assess
    expect(chunkCount(bytes)).toBe(chunks);
  });
});

describe('chunkBoundaries', () => {
  it.each([
    { min: 1n, max: 100n, chunks: 4, boundaries: [26n, 51n, 76n] },
    { min: 1n, max: 100n, chunks: 1, boundaries: [] },
    { min: 5n, max: 5n, chunks: 8, boundaries: [] },
    { min: 1n, max: 3n, chunks: 8, boundaries: [2n, 3n] },
    {
      min: 1n,
      max: 18_446_744_073_709_551_615n,
      chunks: 2,
      boundaries: [9_223_372_036_854_775_808n],
    },
    { min: -10n, max: 9n, chunks: 2, boundaries: [0n] },
  ])('[$min, $max] in $chunks: $boundaries', ({ min, max, chunks, boundaries }) => {
    // Prepare / Act / Assess
    expect(chunkBoundaries(min, max, chunks)).toEqual(boundaries);
  });
});

describe('chunkConditions', () => {
  it('covers the key range with half-open ranges, open at both ends', () => {
    // Prepare / Act
    const conditions = chunkConditions('ID', [26n, 51n]);
    // Assess
    expect(conditions).toEqual([
      'WHERE `ID` < 26',
      'WHERE `ID` >= 26 AND `ID` < 51',
      'WHERE `ID` >= 51',
    ]);
  });

  it('reads the whole table in one chunk without boundaries', () => {
    // Prepare / Act / Assess
    expect(chunkConditions('ID', [])).toEqual(['']);
  });
});

describe('rowChecksumExpression / chunkQuery', () => {
  it("joins each column's CRC32 and appends which columns are NULL", () => {
    // Prepare / Act
    const expression = rowChecksumExpression(['ID', 'post_content']);
    // Assess
    expect(expression).toBe(
      "CRC32(CONCAT_WS('#', CRC32(`ID`), CRC32(`post_content`), CONCAT(ISNULL(`ID`), ISNULL(`post_content`))))",
    );
  });

  it('quotes names that need it', () => {
    // Prepare / Act
    const sql = chunkQuery(
      { table: 'wp_`odd`', columns: ['a`b'], chunkKey: 'a`b', dataBytes: 0 },
      'WHERE `a``b` < 5',
    );
    // Assess
    expect(sql).toBe(
      "SELECT COUNT(*) AS n, COALESCE(SUM(CRC32(CONCAT_WS('#', CRC32(`a``b`), CONCAT(ISNULL(`a``b`))))), 0) AS s FROM `wp_``odd``` WHERE `a``b` < 5",
    );
  });

  it('refuses a table without columns', () => {
    // Prepare / Act / Assess
    expect(() => rowChecksumExpression([])).toThrow(RangeError);
  });
});

describe('addChunks', () => {
  it('adds counts and sums per table beyond 2^53, and gives an unread table zero', () => {
    // Prepare
    const chunks = [
      { table: 'wp_posts', rows: 3n, sum: 9_007_199_254_740_993n },
      { table: 'wp_posts', rows: 2n, sum: 4_294_967_295n },
    ];
    // Act
    const stats = addChunks(['wp_posts', 'wp_links'], chunks);
    // Assess
    expect(stats).toEqual({
      wp_posts: { rows: 5, checksum: '9007203549708288' },
      wp_links: { rows: 0, checksum: '0' },
    });
  });

  it('refuses a chunk of a table not asked for', () => {
    // Prepare / Act / Assess
    expect(() => addChunks([], [{ table: 'x', rows: 1n, sum: 1n }])).toThrow(/not asked for/);
  });
});

/** A connection that only records how it was used. */
function recordingConnection(id: number) {
  const conn = {
    id,
    ended: false,
    async end() {
      conn.ended = true;
    },
  };
  return conn;
}
const asConnection = (c: ReturnType<typeof recordingConnection>) => c as unknown as Connection;
const idOf = (c: Connection) => (c as unknown as { id: number }).id;

describe('runJobs', () => {
  it('gives each connection the next job when it is free, answers in the jobs order', async () => {
    // Prepare: job 0 is slow, so the other connection takes jobs 1 and 2
    const connections = [0, 1].map((id) => asConnection(recordingConnection(id)));
    const ran: [number, number][] = [];
    const jobs = [30, 1, 1].map((ms, index) => async (conn: Connection) => {
      await new Promise((r) => setTimeout(r, ms));
      ran.push([index, idOf(conn)]);
      return index * 10;
    });
    // Act
    const answers = await runJobs(connections, jobs);
    // Assess
    expect(answers).toEqual([0, 10, 20]);
    expect(ran).toEqual([
      [1, 1],
      [2, 1],
      [0, 0],
    ]);
  });

  it('never runs two jobs at once on one connection', async () => {
    // Prepare
    const connections = [0, 1, 2].map((id) => asConnection(recordingConnection(id)));
    const busy = new Set<number>();
    let overlap = false;
    const jobs = Array.from({ length: 20 }, (_, i) => async (conn: Connection) => {
      if (busy.has(idOf(conn))) overlap = true;
      busy.add(idOf(conn));
      await new Promise((r) => setTimeout(r, i % 3));
      busy.delete(idOf(conn));
    });
    // Act
    await runJobs(connections, jobs);
    // Assess
    expect(overlap).toBe(false);
  });

  it('stops handing out jobs after a failure and throws it', async () => {
    // Prepare
    const started: number[] = [];
    const jobs = [0, 1, 2, 3].map((index) => async () => {
      started.push(index);
      if (index === 0) throw new Error('Table is marked as crashed');
    });
    // Act
    const run = runJobs([asConnection(recordingConnection(0))], jobs);
    // Assess
    await expect(run).rejects.toThrow('Table is marked as crashed');
    expect(started).toEqual([0]);
  });
});

describe('withReaders', () => {
  it('opens parallelism - 1 more connections and closes them, not the one given', async () => {
    // Prepare
    const given = recordingConnection(0);
    const opened: ReturnType<typeof recordingConnection>[] = [];
    const openMore = async () => {
      const conn = recordingConnection(opened.length + 1);
      opened.push(conn);
      return asConnection(conn);
    };
    // Act
    const ids = await withReaders(asConnection(given), { openMore, parallelism: 4 }, async (all) =>
      all.map(idOf),
    );
    // Assess
    expect(ids).toEqual([0, 1, 2, 3]);
    expect(opened.every((c) => c.ended)).toBe(true);
    expect(given.ended).toBe(false);
  });

  it('reads with the connections it got when the server refuses more (Too many connections)', async () => {
    // Prepare
    const opened: ReturnType<typeof recordingConnection>[] = [];
    const openMore = async () => {
      if (opened.length === 2) throw new Error('Too many connections');
      const conn = recordingConnection(opened.length + 1);
      opened.push(conn);
      return asConnection(conn);
    };
    // Act
    const ids = await withReaders(
      asConnection(recordingConnection(0)),
      { openMore, parallelism: 8 },
      async (all) => all.map(idOf),
    );
    // Assess
    expect(ids).toEqual([0, 1, 2]);
    expect(opened.map((c) => c.ended)).toEqual([true, true]);
  });

  it('closes what it opened when the work fails', async () => {
    // Prepare
    const opened: ReturnType<typeof recordingConnection>[] = [];
    const openMore = async () => {
      const conn = recordingConnection(opened.length + 1);
      opened.push(conn);
      return asConnection(conn);
    };
    // Act
    const failed = withReaders(
      asConnection(recordingConnection(0)),
      { openMore, parallelism: 3 },
      async () => {
        throw new Error('Lost connection to server during query');
      },
    );
    // Assess
    await expect(failed).rejects.toThrow('Lost connection');
    expect(opened.map((c) => c.ended)).toEqual([true, true]);
  });

  it('without readers works on the one connection', async () => {
    // Prepare / Act
    const count = await withReaders(
      asConnection(recordingConnection(0)),
      undefined,
      async (all) => all.length,
    );
    // Assess
    expect(count).toBe(1);
  });
});
