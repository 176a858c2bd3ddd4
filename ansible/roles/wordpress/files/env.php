<?php
/*
 * Configuration comes from the environment only, never from values baked into the image.
 * Each variable X may instead be given as X_FILE, the path of a file holding the value
 * (secret files locally; on ECS the secrets arrive as plain variables).
 * Managed by the stepdeploy wordpress role.
 */

/** The value of $name from the environment or from the file named by ${name}_FILE. */
function stepdeploy_env(string $name, ?string $default = null): ?string
{
    $value = getenv($name);
    if ($value !== false && $value !== '') {
        return $value;
    }
    $file = getenv($name . '_FILE');
    if ($file !== false && $file !== '') {
        $content = @file_get_contents($file);
        if ($content === false) {
            error_log("stepdeploy: cannot read {$name}_FILE ({$file}); treating {$name} as unset");
            return $default;
        }
        return rtrim($content, "\r\n");
    }
    return $default;
}

/** Names of the required database settings that are missing. */
function stepdeploy_missing_db_settings(): array
{
    $missing = [];
    foreach (['WORDPRESS_DB_HOST', 'WORDPRESS_DB_NAME', 'WORDPRESS_DB_USER', 'WORDPRESS_DB_PASSWORD'] as $name) {
        if (stepdeploy_env($name) === null) {
            $missing[] = $name;
        }
    }
    return $missing;
}

/** The table prefix, or null when it holds characters that cannot be in a table name. */
function stepdeploy_table_prefix(): ?string
{
    $prefix = stepdeploy_env('WORDPRESS_TABLE_PREFIX', 'wp_');
    return preg_match('/^[A-Za-z0-9_]+$/', $prefix) === 1 ? $prefix : null;
}
