/**
 * Pure mappings from the JSON the other bench scripts write (bench/image-build.ts,
 * bench/restore.ts, bench/transitions.ts, bench/local-release.ts) to report sections. Each
 * refuses a shape it does not know rather than guessing a number.
 */
import { SCRATCH_READERS } from '#commons/table-content.ts';
import { type Figure, figure, notMeasured, type SectionResult, type Target } from './figures.ts';

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) ? v : undefined;

/** The app-only rebuild's target against the fair yardstick (issue 14). */
export const APP_ONLY_TARGET: Target = {
  on: 'ratio',
  max: 2,
  text: '≤ 2× the Dockerfile build in which only the application layer changed',
};

/** bench/results/image-build.json → the image build section. Pure. */
export function imageBuildSection(json: unknown): SectionResult {
  const rows =
    isObj(json) && Array.isArray(json.rows) ? (json.rows as unknown[]).filter(isObj) : [];
  const shapes =
    isObj(json) && Array.isArray(json.shapes) ? (json.shapes as unknown[]).filter(isObj) : [];
  const row = (name: string) => rows.find((r) => r.scenario === name);
  const pair = (name: string, packer: string, yard: string, yardName: string, target?: Target) => {
    const p = num(row(packer)?.seconds);
    const y = num(row(yard)?.seconds);
    if (p === undefined || y === undefined)
      return notMeasured(
        name,
        's',
        `image-build.json has no "${p === undefined ? packer : yard}" row`,
        target,
      );
    return figure({
      name,
      value: p,
      unit: 's',
      yardstick: { name: yardName, value: y, unit: 's' },
      ...(target ? { target } : {}),
    });
  };
  const shape = (name: string, key: 'sizeBytes' | 'layers', unit: string, scale: number) => {
    const p = num(shapes.find((s) => s.image === 'packer')?.[key]);
    const d = num(shapes.find((s) => s.image === 'dockerfile')?.[key]);
    if (p === undefined || d === undefined)
      return notMeasured(name, unit, `image-build.json has no ${key} of both images`);
    return figure({
      name,
      value: p / scale,
      unit,
      yardstick: { name: `the Dockerfile's image`, value: d / scale, unit },
    });
  };
  const unchanged = row('packer unchanged');
  const rebuilt: Figure =
    typeof unchanged?.appStageBuilt === 'boolean'
      ? figure({
          name: 'app stage rebuilt for an unchanged source (1 = rebuilt)',
          value: unchanged.appStageBuilt ? 1 : 0,
          unit: '',
          target: { on: 'value', max: 0, text: 'not rebuilt: recognised by its content hash' },
        })
      : notMeasured('app stage rebuilt for an unchanged source', '', 'no packer unchanged row');
  const figures = [
    pair(
      'cold Packer + Ansible build and push',
      'packer cold',
      'dockerfile cold',
      'the same image by docker build --no-cache + push',
    ),
    pair(
      'unchanged rebuild and push',
      'packer unchanged',
      'dockerfile unchanged',
      'docker build of the same context with its layer cache + push',
    ),
    rebuilt,
    pair(
      'app-only rebuild (site change, new revision) and push',
      'packer app-only',
      'dockerfile app-only',
      'docker build with its layer cache, only the application layer changed + push',
      APP_ONLY_TARGET,
    ),
    shape('image size', 'sizeBytes', 'MiB', 2 ** 20),
    shape('image layers', 'layers', 'layers', 1),
  ];
  const detail = rows.map((r) => `${r.scenario}: ${r.detail}`).join('; ');
  const measured = figures.filter((f) => f.value !== null).length;
  return {
    id: 'image',
    title: 'Image build',
    status: measured === figures.length ? 'measured' : measured > 0 ? 'partial' : 'not measured',
    ...(measured < figures.length
      ? {
          reason: figures
            .filter((f) => f.notMeasured)
            .map((f) => f.notMeasured)
            .join('; '),
        }
      : {}),
    method: `bench/image-build.ts: local/packer.ts builds (base stage + app stage, the Ansible role run through \`docker exec\`) pushed to a fresh registry on 127.0.0.1, against a Dockerfile written from the image Packer built (bench/lib/yardstick.ts: the same Debian packages in one RUN, the app stage's own layer ADDed as files with its deletions and the role's checks, the same metadata). App-only: a copy of site/ with one file added and a new revision; the yardstick's app-only build is the same Dockerfile with the new image's app layer, its packages layer from cache. ${detail}`,
    figures,
    details: json,
  };
}

/** Issue 14's restore target: restore + verify at most 1.2× a plain restore, at 1 GB. */
export const RESTORE_TARGET_MB = 1000;
export const RESTORE_TARGET = {
  on: 'ratio',
  max: 1.2,
  text: '≤ 1.2× a plain restore (at 1 GB)',
} as const;

/** bench/results/restore.json → the restore verification section. Pure. */
export function restoreSection(json: unknown): SectionResult {
  const rows =
    isObj(json) && Array.isArray(json.rows) ? (json.rows as unknown[]).filter(isObj) : [];
  const figures: Figure[] = rows.flatMap((r) => {
    const size = num(r.sizeMb);
    const alone = num(r.restoreSeconds);
    // Its own restore when recorded (older results hold only the separate run's).
    const plain = num(r.scratchRestoreSeconds) ?? alone;
    const both = num(r.restoreAndVerifySeconds);
    const verify = num(r.verifySeconds);
    const read = num(r.readSeconds);
    if (size === undefined || plain === undefined || both === undefined) return [];
    return [
      figure({
        name: `${size} MB of WordPress content: restore + verify`,
        value: both,
        unit: 's',
        yardstick: {
          name:
            r.scratchRestoreSeconds !== undefined
              ? 'plain restore (the verified scratch, same run)'
              : 'plain restore',
          value: plain,
          unit: 's',
        },
        ...(size === RESTORE_TARGET_MB ? { target: RESTORE_TARGET } : {}),
        note: `verify alone ${verify ?? '?'} s; a plain restore in a run of its own ${alone ?? '?'} s; dump ${((num(r.dumpBytes) ?? 0) / 1e6).toFixed(1)} MB`,
      }),
      ...(verify !== undefined && read !== undefined
        ? [
            figure({
              name: `${size} MB of WordPress content: verify alone`,
              value: verify,
              unit: 's',
              yardstick: {
                name: `one full read of the restored data over the same ${SCRATCH_READERS} connections`,
                value: read,
                unit: 's',
              },
            }),
          ]
        : []),
    ];
  });
  return {
    id: 'restore',
    title: 'Restore verification',
    status: figures.length > 0 ? 'measured' : 'not measured',
    ...(figures.length === 0 ? { reason: 'restore.json holds no complete row' } : {}),
    method: `bench/restore.ts: a snapshot of generated WordPress content restored into a scratch MariaDB container (plain), against restore + VerifyData (CHECK TABLE, row counts and content checksums against the manifest: every row's CRC32, read in primary-key chunks over ${SCRATCH_READERS} connections), timed to the verdict (removing the scratch is left out of both). Target (issue 14): restore + verify at most 1.2× the plain restore at 1 GB. The plain restore it is set against is the verified scratch's own restore, timed in the same run (restore + verify = that restore, then VerifyData): two restores of the same dump on this machine differ by up to a quarter (disk writes), more than the verification costs, so a restore timed in another run would judge the disk, not the verification; that separate run is in the notes. Verify alone is also set against one full read of every row and column of the restored data on the same scratch right after it, in the same chunks over as many connections (a SUM of every column's LENGTH): the floor of any check that proves the content, since the scratch reads through a 128 MB buffer pool with O_DIRECT, from disk once the data outgrows it.`,
    figures,
    details: json,
  };
}

/** bench/results/transitions.json → the state transitions section. Pure. */
export function transitionsSection(json: unknown): SectionResult {
  const results =
    isObj(json) && Array.isArray(json.results) ? (json.results as unknown[]).filter(isObj) : [];
  const good = results.find((r) => r.status === 'SUCCEEDED');
  const bad = results.find((r) => r.status !== 'SUCCEEDED');
  const gt = num(good?.transitions);
  const bt = num(bad?.transitions);
  const figures: Figure[] = [];
  if (gt !== undefined)
    figures.push(
      figure({
        name: `${good?.scenario}: state transitions`,
        value: gt,
        unit: 'transitions',
        note: `${num(good?.healthPolls) ?? '?'} health polls`,
      }),
    );
  if (bt !== undefined)
    figures.push(
      figure({
        name: `${bad?.scenario}: state transitions`,
        value: bt,
        unit: 'transitions',
        ...(gt !== undefined
          ? { yardstick: { name: 'successful release', value: gt, unit: 'transitions' } }
          : {}),
        note: `${num(bad?.healthPolls) ?? '?'} health polls; outcome ${bad?.error ?? bad?.status}`,
      }),
    );
  const growth =
    isObj(json) && isObj(json.growth) && Array.isArray(json.growth.rows)
      ? (json.growth.rows as unknown[]).filter(isObj)
      : [];
  const rows: string[][] = [];
  for (const g of growth) {
    const secs = num(g.rolloutSeconds);
    const a = isObj(g.adaptive) ? g.adaptive : {};
    const f = isObj(g.fixed15) ? g.fixed15 : {};
    const at = num(a.transitions);
    const ft = num(f.transitions);
    if (secs === undefined || at === undefined || ft === undefined) continue;
    figures.push(
      figure({
        name: `successful release, rollout ${secs} s: state transitions`,
        value: at,
        unit: 'transitions',
        yardstick: {
          name: 'every poll 15 s apart (the gate before adaptive polls)',
          value: ft,
          unit: 'transitions',
        },
        note: `${num(a.healthPolls) ?? '?'} health polls, gate passed ${num(a.gateSeconds) ?? '?'} s after the deployment (15 s polls: ${num(f.healthPolls) ?? '?'}, ${num(f.gateSeconds) ?? '?'} s)`,
      }),
    );
    rows.push([
      `${secs} s`,
      `${at} (${num(a.healthPolls) ?? '?'} polls)`,
      `${num(a.gateSeconds) ?? '?'} s`,
      `${ft} (${num(f.healthPolls) ?? '?'} polls)`,
      `${num(f.gateSeconds) ?? '?'} s`,
    ]);
  }
  return {
    id: 'transitions',
    title: 'State transitions',
    ...(rows.length > 0
      ? {
          tables: [
            {
              title: 'Transitions of a successful release against its rollout time',
              headers: [
                'rollout (deployment → drained)',
                'adaptive polls: transitions',
                'gate passed',
                '15 s polls: transitions',
                'gate passed',
              ],
              rows,
            },
          ],
        }
      : {}),
    status:
      gt !== undefined && bt !== undefined
        ? 'measured'
        : figures.length > 0
          ? 'partial'
          : 'not measured',
    ...(gt === undefined || bt === undefined
      ? { reason: 'transitions.json lacks a successful and a rolled-back execution' }
      : {}),
    method: `bench/transitions.ts: local executions of the synthesized release definition against the simulated AWS of test/statemachine. ${isObj(json) && typeof json.note === 'string' ? json.note : ''} ${isObj(json) && isObj(json.growth) && typeof json.growth.note === 'string' ? json.growth.note : ''}`,
    figures,
    details: json,
  };
}

/** The target every rollout phase is held to against its floor. */
export const ROLLOUT_PHASE_TARGET = {
  on: 'ratio',
  max: 1.15,
  text: '≤ 1.15× its floor',
} as const satisfies Target;

/**
 * bench/results/local-release.json (version 2: rolloutMs, floorsMs, transitions, phasesMs as
 * bench/local-release.ts writes them) → the time-to-healthy section; any other shape is
 * refused with the keys it found. Pure.
 */
export function localReleaseSection(json: unknown): SectionResult {
  const floors = isObj(json) && isObj(json.floorsMs) ? json.floorsMs : undefined;
  const rollout = isObj(json) && isObj(json.rolloutMs) ? json.rolloutMs : undefined;
  const phases = isObj(json) && isObj(json.phasesMs) ? json.phasesMs : undefined;
  const load = isObj(json) && isObj(json.load) ? json.load : {};
  const settings = isObj(json) && isObj(json.settings) ? json.settings : {};
  const serving = num(floors?.serving);
  const gone = num(floors?.gone);
  const loadText = `${num(load.ratePerSecond) ?? '?'} req/s (${num(load.fraction) ?? '?'} × the capacity at rest, ${num(load.capacity) ?? '?'} req/s, same run; ${num(load.failed) ?? '?'}/${num(load.sent) ?? '?'} requests failed)`;
  const method = `bench/local-release.ts: one good local release of a changed site/ (real Packer build, trial task, Docker tasks behind HAProxy) under a fixed load of ${loadText}, timed from the deployment DeployService created: to the first and to the last new task UP in HAProxy's check log, to the scheduler's drain finished (old tasks deregistered, stopped, removed) and to the CheckHealth verdict HEALTHY. Floors from the target group HAProxy plays (time factor ${num(settings.timeFactor) ?? '?'}): a fresh container of the new image, started under the same load at a starting task's CPU weight, answering its health path (${num(floors?.containerReady) ?? '?'} ms) + healthy threshold ${num(settings.healthyThreshold) ?? '?'} × interval ${num(settings.intervalMs) ?? '?'} ms; + deregistration delay ${num(settings.deregistrationDelayMs) ?? '?'} ms for the old tasks.`;
  if (!floors || !rollout || !phases || serving === undefined || gone === undefined)
    return {
      id: 'time-to-healthy',
      title: 'Time to healthy',
      status: 'not measured',
      reason: `bench/results/local-release.json has a shape the report does not know (keys: ${isObj(json) ? Object.keys(json).join(', ') : typeof json})`,
      method,
      figures: [],
      details: json,
    };
  const servingYard = { name: 'floor: ready + rise × interval', value: serving, unit: 'ms' };
  const goneYard = {
    name: 'floor: ready + rise × interval + deregistration delay',
    value: gone,
    unit: 'ms',
  };
  const phase = (name: string, key: string, yardstick: typeof servingYard, note?: string) => {
    const v = num(rollout[key]);
    return v === undefined
      ? notMeasured(name, 'ms', `the release recorded no "${key}" moment`, ROLLOUT_PHASE_TARGET)
      : figure({
          name,
          value: v,
          unit: 'ms',
          yardstick,
          target: ROLLOUT_PHASE_TARGET,
          ...(note ? { note } : {}),
        });
  };
  const p = (k: string) => num(phases[k]) ?? 0;
  const transitions = isObj(json) && isObj(json.transitions) ? json.transitions : {};
  const total = num(transitions.total);
  const gate = num(rollout.gatePassed);
  const figures: Figure[] = [
    phase('first new task serving (deployment → its target UP)', 'firstNewServing', servingYard),
    phase(
      'all new tasks serving (deployment → the last new target UP)',
      'allNewServing',
      servingYard,
    ),
    phase(
      'old tasks gone (deployment → drained, stopped, removed)',
      'oldGone',
      goneYard,
      `the drain itself took ${num(rollout.drain) ?? '?'} ms: in-flight requests ended before the delay ran out`,
    ),
    phase('health gate passed (deployment → verdict HEALTHY)', 'gatePassed', goneYard),
  ];
  if (total !== undefined)
    figures.push(
      figure({
        name: 'state transitions of the release',
        value: total,
        unit: 'transitions',
        note: `${num(transitions.healthPolls) ?? '?'} health polls in a rollout of ${gate === undefined ? '?' : `${(gate / 1000).toFixed(1)} s`} (deployment → gate passed)`,
      }),
    );
  figures.push(
    figure({
      name: 'time to healthy (whole release)',
      value: p('total'),
      unit: 'ms',
      yardstick: { name: 'its image build', value: p('build'), unit: 'ms' },
    }),
  );
  const buildOrSnapshot = Math.max(p('build'), p('snapshot'));
  const sequential =
    buildOrSnapshot + p('register') + p('trial') + p('healthGate') + p('smokeTest');
  return {
    id: 'time-to-healthy',
    title: 'Time to healthy',
    status: figures.every((f) => f.value !== null) ? 'measured' : 'partial',
    method,
    figures,
    phases: [
      {
        label: 'a good local release',
        segments: [
          {
            label: p('build') >= p('snapshot') ? 'build (∥ snapshot)' : 'snapshot (∥ build)',
            value: buildOrSnapshot,
          },
          { label: 'register', value: p('register') },
          { label: 'trial task', value: p('trial') },
          { label: 'health gate (rollout, drain)', value: p('healthGate') },
          { label: 'smoke test', value: p('smokeTest') },
          { label: 'other states', value: Math.max(0, p('total') - sequential) },
        ],
      },
    ],
    details: json,
  };
}
