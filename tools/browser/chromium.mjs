// Debian's Chromium driven by playwright-core: never a downloaded browser.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

export const CHROMIUM = process.env.WAYPOINT_CHROMIUM || "/usr/bin/chromium";

// The machine's network is closed: without these, Chromium keeps reaching for
// Google's services and its connections are refused, many at a time.
const FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

// A browser context in a fresh profile directory, removed again by close().
export async function openBrowser({ viewport = { width: 1280, height: 900 }, locale = "en-GB" } = {}) {
  const profile = mkdtempSync(join(tmpdir(), "waypoint-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport,
    locale,
  });
  return {
    context,
    async close() {
      try {
        await context.close();
      } finally {
        rmSync(profile, { recursive: true, force: true });
      }
    },
  };
}
