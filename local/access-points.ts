import type { LocalAccessPoint } from './application.ts';
import { FileTable } from './table.ts';

export type { LocalAccessPoint } from './application.ts';

/**
 * The local "EFS": each file system of the stack is a Docker volume of the service, and its
 * access points (creation owner and mode of the root, POSIX user) are these records, written by
 * `stepdeploy local up` from the synthesized template and read by the task runner.
 */
export function accessPointTable(
  stateDir: string,
): FileTable<LocalAccessPoint & Record<string, unknown>> {
  return new FileTable<LocalAccessPoint & Record<string, unknown>>(stateDir, 'efs-access-points', {
    partitionKey: 'accessPointId',
  });
}

/** Records the stack's access points (like creating them with the stack). Idempotent. */
export async function recordAccessPoints(
  stateDir: string,
  accessPoints: readonly LocalAccessPoint[],
): Promise<void> {
  const table = accessPointTable(stateDir);
  for (const ap of accessPoints) await table.put({ ...ap });
}
