// Shared by the browser scenarios: Debian's chromium through playwright-core, launched as
// PEERS.md says (never a browser Playwright downloads), with a fresh profile directory.
import { chromium } from "playwright-core";
import fs from "node:fs";
import path from "node:path";

export const BASE = process.env.CCBOX_URL;
export const SHOTS = process.env.CCBOX_SHOTS;

const FLAGS = [
  "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
  // The recording is played without a click on its controls.
  "--autoplay-policy=no-user-gesture-required",
];

export async function launch(locale) {
  // launchPersistentContext is how Playwright takes a --user-data-dir of our choosing.
  const profile = fs.mkdtempSync(path.join(process.env.CCBOX_PROFILE_ROOT, "profile-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CCBOX_CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: FLAGS,
    locale,
    viewport: { width: 1280, height: 800 },
  });
  context.setDefaultTimeout(10000);
  const page = context.pages()[0] || (await context.newPage());
  // Any script error or failed request on our pages fails the scenario.
  page.on("pageerror", (err) => { throw err; });
  return { context, page };
}

export async function shot(page, name) {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

export function check(cond, message) {
  if (!cond) throw new Error(`check failed: ${message}`);
}

export function step(name) {
  console.log(`step: ${name}`);
}
