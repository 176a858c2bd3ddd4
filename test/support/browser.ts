import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { chromium } from 'playwright-core';

/** Debian's chromium; playwright-core ships no browser of its own. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Flags for a quiet, sandbox-free headless run that talks to nothing but the page. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** What the browser saw when it opened the page. */
export interface PageShot {
  /** HTTP status of the main document (null when the browser got no response). */
  status: number | null;
  title: string;
  /** The page's visible text. */
  text: string;
  /** Where the PNG was written. */
  path: string;
}

/**
 * Opens `url` in a real headless Chromium with a fresh profile, waits for the network to
 * settle and saves a full-page PNG screenshot at `path` (directories are created).
 */
export async function screenshotPage(
  url: string,
  path: string,
  opts: { timeoutMs?: number; width?: number; height?: number } = {},
): Promise<PageShot> {
  const profile = await mkdtemp(join(tmpdir(), 'stepdeploy-chromium-'));
  await mkdir(dirname(path), { recursive: true });
  // A persistent context is the only way Playwright accepts our own --user-data-dir.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: opts.width ?? 1280, height: opts.height ?? 900 },
    timeout: opts.timeoutMs ?? 60_000,
  });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    const response = await page.goto(url, {
      waitUntil: 'networkidle',
      timeout: opts.timeoutMs ?? 60_000,
    });
    await page.screenshot({ path, fullPage: true });
    return {
      status: response?.status() ?? null,
      title: await page.title(),
      text: await page.locator('body').innerText(),
      path,
    };
  } finally {
    await context.close();
    await rm(profile, { recursive: true, force: true });
  }
}
