import { Browser, chromium } from 'playwright-core';

/** Debian's Chromium, or PAVED_CHROMIUM. */
export const CHROMIUM = process.env.PAVED_CHROMIUM ?? '/usr/bin/chromium';

/** Headless Chromium as the browser tests run it: no sandbox (root), no GPU, nothing fetched in the background. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
