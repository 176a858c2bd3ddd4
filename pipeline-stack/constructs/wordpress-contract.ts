/**
 * What the WordPress image and the stack promise each other: the container's name, port, user,
 * health endpoint and paths. The pipeline stack and the tests read them from here through
 * application-stack.ts.
 */

/** Name of the WordPress container in every task-definition revision. */
export const CONTAINER_NAME = 'wordpress';
/** Port the image listens on (`PORT`). */
export const CONTAINER_PORT = 8080;
/** Liveness endpoint of the image: 200 when PHP answers, no database call. */
export const HEALTH_CHECK_PATH = '/healthz';

/** Wrong answers in a row that mark a target unhealthy; the release's trial task is held to it too. */
export const UNHEALTHY_THRESHOLD = 2;
/**
 * uid/gid the image runs as: Debian's `www-data`. The EFS access point creates the uploads
 * directory with this owner so the non-root container can write to it.
 */
export const CONTAINER_UID = 33;
/** Where the image keeps uploads; the only persistent path, backed by EFS. */
export const UPLOADS_PATH = '/var/lib/wordpress/wp-content/uploads';
/**
 * Tag the task definition's image carries until a release has built one (no `image` in the
 * config). Never pulled: the service starts at zero tasks and the first release sets its
 * desired count with an image of its own.
 */
export const BOOTSTRAP_IMAGE_TAG = 'bootstrap';
/** The admin user the first install creates (its password is the stack's `adminSecret`). */
export const ADMIN_USER = 'admin';
/** Command of the one-off task that installs WordPress on a fresh database (the image's). */
export const INSTALL_COMMAND = ['stepdeploy-install'] as const;
