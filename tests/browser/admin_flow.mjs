// Sign in (Chinese first), create an extension, find it in the list, play a recording,
// switch to English, sign out. Screenshots of each key page in both languages.
import { BASE, check, launch, shot, step } from "./lib.mjs";

const { context, page } = await launch("zh-CN");
try {
  step("sign-in page in Chinese");
  await page.goto(`${BASE}/signin`);
  check((await page.locator("html").getAttribute("lang")) === "zh-CN", "page language zh-CN");
  check(await page.getByRole("button", { name: "登录" }).isVisible(), "登录 button");
  await shot(page, "zh-signin");

  step("wrong password is refused");
  await page.fill("#name", process.env.CCBOX_USER);
  await page.fill("#password", "not-the-password");
  await page.click("#signin");
  check((await page.textContent("#signin-error")).includes("用户名或密码错误"), "error shown");

  step("sign in");
  await page.fill("#name", process.env.CCBOX_USER);
  await page.fill("#password", process.env.CCBOX_PASSWORD);
  await Promise.all([page.waitForURL(`${BASE}/`), page.click("#signin")]);
  check((await page.textContent("h1")) === "系统状态", "dashboard heading");
  check(await page.locator("#switchd-down").isVisible(), "switchd-not-running notice");
  await shot(page, "zh-dashboard");

  step("create an extension");
  await page.click("#nav-extensions");
  await page.click("#add-extension");
  await shot(page, "zh-extension-new");
  await page.fill("#number", "8123");
  await page.fill("#ext-name", "测试分机");
  await page.click("#save");
  const password = (await page.textContent("#sip-password")).trim();
  check(/^[2-9a-zA-Z]{16}$/.test(password), `generated password looks strong: ${password.length}`);
  await shot(page, "zh-extension-created");

  step("find it in the list");
  await page.click("#back-to-list");
  const row = page.locator('tr[data-number="8123"]');
  check((await row.textContent()).includes("测试分机"), "name in the row");
  check((await row.textContent()).includes("未注册"), "registration state in the row");
  check(!(await page.content()).includes(password), "password not shown in the list");
  await shot(page, "zh-extensions");

  step("call records and the recording");
  await page.click("#nav-cdrs");
  check(await page.locator('tr[data-call-id="call-1"]').isVisible(), "the call is listed");
  await shot(page, "zh-cdrs");
  await page.click('tr[data-call-id="call-1"] a.play');
  const audio = page.locator("audio#recording");
  await audio.waitFor();
  const duration = await audio.evaluate((el) => new Promise((resolve, reject) => {
    if (el.readyState >= 1) return resolve(el.duration);
    el.addEventListener("loadedmetadata", () => resolve(el.duration), { once: true });
    el.addEventListener("error", () => reject(new Error(`audio error ${el.error?.code}`)), { once: true });
  }));
  console.log(`recording duration: ${duration}`);
  check(duration > 1.5 && duration < 2.5, `duration ${duration} of a 2 s recording`);
  const played = await audio.evaluate(async (el) => {
    await el.play();
    await new Promise((r) => setTimeout(r, 300));
    return el.currentTime;
  });
  console.log(`played to ${played}`);
  check(played > 0, "playback advanced");
  await shot(page, "zh-cdr");
  const cdrUrl = page.url();

  step("users page, and a POST without the CSRF token is refused");
  await page.click("#nav-users");
  check(await page.locator('tr[data-user="admin"]').isVisible(), "admin listed");
  await shot(page, "zh-users");
  const forged = await page.evaluate(async () => (await fetch("/lang", {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: "lang=en",
  })).status);
  check(forged === 403, `POST without CSRF token: ${forged}`);
  await page.click("#nav-account");
  await shot(page, "zh-account");
  await page.goto(cdrUrl);

  step("switch to English");
  await page.click("#lang-switch");
  await page.waitForLoadState();
  check((await page.locator("html").getAttribute("lang")) === "en", "page language en");
  check((await page.textContent("h1")) === "Call record", "English heading on the same page");
  await shot(page, "en-cdr");
  for (const [url, name, heading] of [
    ["/", "en-dashboard", "System status"],
    ["/extensions", "en-extensions", "Extensions"],
    ["/cdrs", "en-cdrs", "Call records"],
    ["/extensions/new", "en-extension-new", "Add extension"],
    ["/users", "en-users", "Users"],
    ["/account", "en-account", "My account"],
  ]) {
    await page.goto(`${BASE}${url}`);
    check((await page.textContent("h1")).startsWith(heading), `${url} in English`);
    await shot(page, name);
  }

  step("sign out");
  await Promise.all([page.waitForURL(/\/signin$/), page.click("#signout")]);
  check((await page.textContent("h1")) === "Sign in", "sign-in page stays English");
  await shot(page, "en-signin");
  await page.goto(`${BASE}/extensions`);
  check(page.url().includes("/signin?next=/extensions"), "signed out for real");
  console.log("ok");
} finally {
  await context.close();
}
