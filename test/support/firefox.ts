/**
 * Headless Firefox ESR (Debian's `firefox-esr`) through puppeteer-core over WebDriver BiDi (playwright-core
 * drives only its own Firefox build). puppeteer gives every launch a fresh temporary profile.
 */
import puppeteer, { type Browser } from 'puppeteer-core';

export const FIREFOX_PATH = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr';

export function launchFirefox(): Promise<Browser> {
  return puppeteer.launch({ browser: 'firefox', executablePath: FIREFOX_PATH, headless: true, defaultViewport: { width: 1280, height: 900 } });
}
