import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '#stack/config.ts';
import { checkScheduleOutsideWindow, parseDailyWindow } from '#stack/schedule-window.ts';

const parse = (context: Record<string, unknown>) => () => parseConfig((key) => context[key]);

describe('checkScheduleOutsideWindow', () => {
  const window = parseDailyWindow('03:00-04:00');
  const midnight = parseDailyWindow('23:30-00:30');

  it.each([
    ['the old default, 03:17 daily', 'cron(17 3 * * ? *)', window, false],
    ['the new default, 06:17 daily', 'cron(17 6 * * ? *)', window, true],
    ['the window start itself', 'cron(0 3 * * ? *)', window, false],
    ['the window end (exclusive)', 'cron(0 4 * * ? *)', window, true],
    ['a minute before the window', 'cron(59 2 * * ? *)', window, true],
    ['every hour', 'cron(5 * * * ? *)', window, false],
    ['every 15 minutes from 01:00 to 02:59', 'cron(0/15 1-2 * * ? *)', window, true],
    ['a list of hours touching the window', 'cron(30 1,3 ? * MON-FRI *)', window, false],
    ['weekdays at 12:00', 'cron(0 12 ? * MON-FRI *)', window, true],
    ['a window across midnight, 00:10', 'cron(10 0 * * ? *)', midnight, false],
    ['a window across midnight, 23:40', 'cron(40 23 * * ? *)', midnight, false],
    ['a window across midnight, 01:00', 'cron(0 1 * * ? *)', midnight, true],
    ['a one-time run inside', 'at(2027-01-01T03:30:00)', window, false],
    ['a one-time run outside', 'at(2027-01-01T07:30:00)', window, true],
    ['rate(), whose phase depends on the deploy time', 'rate(1 day)', window, false],
  ])('%s: %s → outside=%s', (_name, expression, w, outside) => {
    // Prepare
    if (!w) throw new Error('fixture window did not parse');
    // Act
    const check = checkScheduleOutsideWindow(expression, w);
    // Assess
    expect(check.ok).toBe(outside);
  });

  it.each([
    ['03:00-04:00', { start: 180, end: 240 }],
    ['23:30-00:30', { start: 1410, end: 1470 }],
    ['3:00-4:00', undefined],
    ['24:00-01:00', undefined],
  ])('parses the backup window %s', (text, expected) => {
    // Act
    const parsed = parseDailyWindow(text);
    // Assess
    expect(parsed === undefined ? undefined : { start: parsed.start, end: parsed.end }).toEqual(
      expected,
    );
  });
});

describe('config: verification schedule against the backup window', () => {
  it('defaults to a schedule outside the default backup window', () => {
    // Act
    const config = parseConfig(() => undefined);
    // Assess
    expect(config.dbBackupWindow).toBe('03:00-04:00');
    expect(config.verifySchedule).toBe('cron(17 6 * * ? *)');
    const window = parseDailyWindow(config.dbBackupWindow);
    expect(window && checkScheduleOutsideWindow(config.verifySchedule, window).ok).toBe(true);
  });

  it('refuses a schedule inside the window, naming both keys and the fix', () => {
    // Prepare
    const context = { verifySchedule: 'cron(17 3 * * ? *)' };
    // Act
    const load = parse(context);
    // Assess
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(/'verifySchedule'/);
    expect(load).toThrow(/dbBackupWindow=03:00-04:00/);
    expect(load).toThrow(/starts at 03:17 UTC/);
    expect(load).toThrow(/outside it, or move dbBackupWindow/);
  });

  it('accepts the old schedule once the backup window moves away from it', () => {
    // Prepare
    const context = { verifySchedule: 'cron(17 3 * * ? *)', dbBackupWindow: '01:00-02:00' };
    // Act
    const config = parse(context)();
    // Assess
    expect(config).toMatchObject({
      verifySchedule: 'cron(17 3 * * ? *)',
      dbBackupWindow: '01:00-02:00',
    });
  });

  it.each([
    ['malformed', '3-4'],
    ['shorter than the 30 minutes RDS requires', '03:00-03:15'],
    ['overlapping the maintenance window', '04:00-05:00'],
  ])('refuses a backup window that is %s', (_name, dbBackupWindow) => {
    // Act
    const load = parse({ dbBackupWindow });
    // Assess
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(/'dbBackupWindow'/);
  });
});

describe('config: CPU architecture', () => {
  it('refuses ARM64, which the x86_64 image build cannot serve', () => {
    // Act
    const load = parse({ cpuArchitecture: 'ARM64' });
    // Assess
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(
      /'cpuArchitecture': ARM64 is not supported.*builds x86_64 images only.*use X86_64/,
    );
  });

  it('accepts X86_64, the default', () => {
    // Act
    const config = parse({ cpuArchitecture: 'X86_64' })();
    // Assess
    expect(config.cpuArchitecture).toBe('X86_64');
  });
});

describe('config: release snapshot retention', () => {
  it('defaults to the 10 newest plus the last 3 known-good releases', () => {
    // Act
    const config = parseConfig(() => undefined);
    // Assess
    expect(config).toMatchObject({ keepReleaseSnapshots: 10, keepKnownGoodSnapshots: 3 });
  });

  it.each([
    [
      'no newest snapshot at all',
      { keepReleaseSnapshots: 0 },
      /'keepReleaseSnapshots'.*from 1 to 50/,
    ],
    ['a negative known-good count', { keepKnownGoodSnapshots: '-1' }, /'keepKnownGoodSnapshots'/],
    [
      'more than half of the RDS quota together',
      { keepReleaseSnapshots: 40, keepKnownGoodSnapshots: 15 },
      /keepReleaseSnapshots \(40\) \+ keepKnownGoodSnapshots \(15\) must be at most 50.*quota of 100/,
    ],
  ])('refuses %s', (_name, context, message) => {
    // Act
    const load = parse(context);
    // Assess
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(message);
  });
});
