<?php
/*
 * Plugin Name: stepdeploy hardening
 * Description: XML-RPC off (Apache also refuses xmlrpc.php); no pingback header. Managed by the stepdeploy wordpress role.
 */
add_filter('xmlrpc_enabled', '__return_false');
add_filter('xmlrpc_methods', '__return_empty_array');
add_filter('pings_open', '__return_false');
add_filter('wp_headers', static function (array $headers): array {
    unset($headers['X-Pingback']);
    return $headers;
});
