import type { ReleaseQueueView } from '#commons/lock.ts';

/** The release running and the one waiting, as status lines. Pure. */
export function queueLines(view: ReleaseQueueView): string[] {
  const by = (who?: string) => (who ? ` by ${who}` : '');
  return [
    view.running
      ? `  running   ${view.running.releaseId}${by(view.running.startedBy)}${view.running.since ? ` since ${view.running.since}` : ''} (lease until ${view.running.leaseUntil})`
      : '  running   no release',
    ...(view.waiting
      ? [
          `  waiting   ${view.waiting.releaseId}${by(view.waiting.startedBy)}, started ${view.waiting.startedAt}: the newest, it runs next; any older one waiting is superseded`,
        ]
      : []),
  ];
}
