// The deliberately bad images local mode can build: named by the command line (`--fault`),
// carried in the build settings of the step context and applied by the BuildImage adapter.
// A module of their own so that none of those three has to import another for them.

/** The Ansible extra var that makes /healthz answer 500 (ansible/roles/wordpress/defaults). */
export const FAULT_HEALTHZ_VAR = 'wordpress_fault_healthz_status';

/**
 * Deliberately bad images for tests and demos, each made by one of the role's fault variables:
 * `healthz` (its /healthz answers 500), `home` (the home page answers 500 while /healthz is
 * 200: broken site code) and `crash` (the container exits 3 at start).
 */
export const IMAGE_FAULTS = {
  healthz: { [FAULT_HEALTHZ_VAR]: '500' },
  home: { wordpress_fault_home_status: '500' },
  crash: { wordpress_fault_start_exit: '3' },
} as const satisfies Record<string, Record<string, string>>;

/** A kind of deliberately bad image. */
export type ImageFault = keyof typeof IMAGE_FAULTS;

/** Whether a string names an image fault. Pure. */
export function isImageFault(value: string): value is ImageFault {
  return Object.hasOwn(IMAGE_FAULTS, value);
}
