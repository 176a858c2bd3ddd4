import { describe, expect, it } from 'vitest';
import {
  type DatabaseSchema,
  describeSchemaChange,
  schemaChange,
  schemaFromColumns,
  schemaNote,
} from '#commons/wordpress-schema.ts';

const found: DatabaseSchema = {
  dbVersion: '58975',
  tables: {
    wp_options: ['option_id', 'option_name', 'option_value', 'autoload'],
    wp_posts: ['ID', 'post_title', 'post_status'],
    wp_links: ['link_id', 'link_url'],
  },
};
const left = (over: Partial<DatabaseSchema>): DatabaseSchema => ({ ...found, ...over });

describe('schemaFromColumns', () => {
  it('groups columns by table in ordinal order, tables by name', () => {
    // Prepare
    const rows = [
      { table: 'wp_posts', column: 'ID' },
      { table: 'wp_posts', column: 'post_title' },
      { table: 'wp_options', column: 'option_id' },
      { table: 'wp_options', column: 'option_name' },
    ];
    // Act
    const schema = schemaFromColumns(rows, '58975');
    // Assess
    expect(schema).toEqual({
      dbVersion: '58975',
      tables: { wp_options: ['option_id', 'option_name'], wp_posts: ['ID', 'post_title'] },
    });
    expect(Object.keys(schema.tables)).toEqual(['wp_options', 'wp_posts']);
  });
});

describe('schemaChange', () => {
  const cases: Array<{
    name: string;
    after: DatabaseSchema;
    want: Omit<ReturnType<typeof schemaChange>, 'dbVersion'> & {
      dbVersion?: { before: string | null; after: string | null };
    };
  }> = [
    {
      name: 'the same schema: nothing changed',
      after: found,
      want: {
        changed: false,
        tablesAdded: [],
        tablesRemoved: [],
        columnsAdded: [],
        columnsRemoved: [],
      },
    },
    {
      name: 'column order alone is no change',
      after: left({ tables: { ...found.tables, wp_posts: ['post_status', 'ID', 'post_title'] } }),
      want: {
        changed: false,
        tablesAdded: [],
        tablesRemoved: [],
        columnsAdded: [],
        columnsRemoved: [],
      },
    },
    {
      name: 'a table created on first load',
      after: left({ tables: { ...found.tables, wp_shop_orders: ['id', 'total'] } }),
      want: {
        changed: true,
        tablesAdded: ['wp_shop_orders'],
        tablesRemoved: [],
        columnsAdded: [],
        columnsRemoved: [],
      },
    },
    {
      name: 'a dropped table: its columns are not listed again',
      after: left({ tables: { wp_options: found.tables.wp_options ?? [], wp_posts: ['ID'] } }),
      want: {
        changed: true,
        tablesAdded: [],
        tablesRemoved: ['wp_links'],
        columnsAdded: [],
        columnsRemoved: ['wp_posts.post_status', 'wp_posts.post_title'],
      },
    },
    {
      name: 'columns added and removed on existing tables, as table.column',
      after: left({
        tables: {
          ...found.tables,
          wp_posts: ['ID', 'post_title', 'shop_flag'],
          wp_links: ['link_id', 'link_url', 'link_rel'],
        },
      }),
      want: {
        changed: true,
        tablesAdded: [],
        tablesRemoved: [],
        columnsAdded: ['wp_links.link_rel', 'wp_posts.shop_flag'],
        columnsRemoved: ['wp_posts.post_status'],
      },
    },
    {
      name: 'a db_version bump alone is a change',
      after: left({ dbVersion: '60421' }),
      want: {
        changed: true,
        dbVersion: { before: '58975', after: '60421' },
        tablesAdded: [],
        tablesRemoved: [],
        columnsAdded: [],
        columnsRemoved: [],
      },
    },
  ];

  it.each(cases)('$name', ({ after, want }) => {
    // Prepare / Act
    const change = schemaChange(found, after);
    // Assess
    expect(change).toEqual({
      dbVersion: { before: '58975', after: '58975' },
      ...want,
    });
  });

  it('a first install (no tables, no db_version) adds every table', () => {
    // Prepare
    const empty: DatabaseSchema = { dbVersion: null, tables: {} };
    // Act
    const change = schemaChange(empty, found);
    // Assess
    expect(change).toMatchObject({
      changed: true,
      dbVersion: { before: null, after: '58975' },
      tablesAdded: ['wp_links', 'wp_options', 'wp_posts'],
      columnsAdded: [],
    });
  });
});

describe('describeSchemaChange / schemaNote', () => {
  const change = schemaChange(
    found,
    left({
      tables: {
        ...found.tables,
        wp_log: ['id'],
        wp_posts: [...(found.tables.wp_posts ?? []), 'flag'],
      },
    }),
  );

  it('says an unchanged db_version as such and leaves empty lists out', () => {
    // Prepare / Act
    const text = describeSchemaChange(change);
    // Assess
    expect(text).toBe(
      'db_version 58975 unchanged; tables added: wp_log; columns added: wp_posts.flag',
    );
  });

  it('counts names beyond ten instead of listing them', () => {
    // Prepare
    const tables = Object.fromEntries(
      Array.from({ length: 12 }, (_, i) => [`wp_t${String(i).padStart(2, '0')}`, ['id']]),
    );
    // Act
    const text = describeSchemaChange(
      schemaChange({ dbVersion: null, tables: {} }, { dbVersion: '60421', tables }),
    );
    // Assess
    expect(text).toBe(
      'db_version none → 60421; tables added: wp_t00, wp_t01, wp_t02, wp_t03, wp_t04, wp_t05, wp_t06, wp_t07, wp_t08, wp_t09 and 2 more',
    );
  });

  it.each([
    [
      'ROLLED_BACK',
      ' The code was rolled back but the schema was not: db_version 58975 unchanged; tables added: wp_log; columns added: wp_posts.flag; restore the pre-release snapshot sd-release-r7 to undo it.',
    ],
    [
      'FAILED',
      " The trial task's code changed the schema before it was refused: db_version 58975 unchanged; tables added: wp_log; columns added: wp_posts.flag; restore the pre-release snapshot sd-release-r7 to undo it.",
    ],
    [
      'DIRTY',
      ' The release changed the schema and nothing rolled it back: db_version 58975 unchanged; tables added: wp_log; columns added: wp_posts.flag; the pre-release snapshot sd-release-r7 holds the schema it found.',
    ],
    [
      'SUCCEEDED',
      ' The release changed the schema: db_version 58975 unchanged; tables added: wp_log; columns added: wp_posts.flag.',
    ],
  ] as const)('%s with a change: %s', (outcome, sentence) => {
    // Prepare / Act
    const note = schemaNote(outcome, 'sd-release-r7', { change });
    // Assess
    expect(note).toBe(sentence);
  });

  it.each(['SUCCEEDED', 'ROLLED_BACK', 'FAILED', 'DIRTY'] as const)(
    '%s without a change says nothing',
    (outcome) => {
      // Prepare / Act
      const note = schemaNote(outcome, 'sd-release-r7', { change: schemaChange(found, found) });
      // Assess
      expect(note).toBe('');
    },
  );

  it.each([
    ['SUCCEEDED', ''],
    [
      'ROLLED_BACK',
      ' Whether the release changed the schema is not known (no schema recorded); the pre-release snapshot sd-release-r7 holds the schema it found.',
    ],
  ] as const)('%s without a baseline: %j', (outcome, sentence) => {
    // Prepare / Act
    const note = schemaNote(outcome, 'sd-release-r7', { noBaseline: 'no schema recorded' });
    // Assess
    expect(note).toBe(sentence);
  });
});
