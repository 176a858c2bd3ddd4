<?php
/**
 * stepdeploy demo theme: Twenty Twenty-Five plus a notice at the top of every page.
 *
 * Change the notice, run `stepdeploy local release`, and the new text is on the page once
 * the release has passed its health gate and smoke test.
 */

const STEPDEPLOY_DEMO_NOTICE = 'This site was released by stepdeploy from site/.';

add_action(
	'wp_enqueue_scripts',
	static function (): void {
		wp_enqueue_style( 'stepdeploy-demo', get_stylesheet_uri(), array(), wp_get_theme()->get( 'Version' ) );
	}
);

add_action(
	'wp_body_open',
	static function (): void {
		printf( '<p class="stepdeploy-demo-notice">%s</p>', esc_html( STEPDEPLOY_DEMO_NOTICE ) );
	}
);
