// The agent's browser for bench/screen_pop.py: signs in, opens the desk, and timestamps
// every Delivered event of an EventSource of its own; prints them as JSON.
import { chromium } from "playwright-core";
const [url, user, password] = process.argv.slice(2);
const ctx = await chromium.launchPersistentContext(process.env.PROFILE, {
  executablePath: "/usr/bin/chromium", headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]});
const page = ctx.pages()[0] || await ctx.newPage();
await page.goto(`${url}/signin`);
await page.fill("#name", user); await page.fill("#password", password);
await Promise.all([page.waitForURL(/\/($|\?)/), page.click("#signin")]);
await page.goto(`${url}/desk`);
await page.evaluate(() => new Promise((resolve) => {
  window.__pops = [];
  const es = new EventSource("/api/v1/events");
  es.addEventListener("Delivered", (ev) => {
    window.__pops.push({ at: performance.timeOrigin + performance.now(), call: JSON.parse(ev.data).call });
  });
  es.addEventListener("snapshot", () => resolve());
}));
console.log("ready");
// the bench says when its calls are over (a line on stdin)
await new Promise((resolve) => process.stdin.once("data", resolve));
console.log(JSON.stringify(await page.evaluate(() => window.__pops)));
await ctx.close();
process.exit(0);
