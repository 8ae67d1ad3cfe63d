// The admin configures a call center in the browser, on a running box (switchd + webd).
// CCBOX_PHASE=build: an extension, an agent and a queue; an IVR flow whose key 1 is
// first wired to a node that does not exist (the error is shown on that node), then
// fixed and activated; a DID that runs it; a broken prompt upload refused, a good one
// uploaded and played; screenshots of every admin page in both languages.
// Prints "ext-password=<the generated SIP password>" for the test's sipp phone.
// CCBOX_PHASE=blacklist: a blacklist entry for the caller CCBOX_BLOCK.
import { BASE, check, launch, shot, step } from "./lib.mjs";

const PHASE = process.env.CCBOX_PHASE;
const EXT = process.env.CCBOX_EXT;
const DID = process.env.CCBOX_DID;

async function signIn(page) {
  await page.goto(`${BASE}/signin`);
  await page.fill("#name", process.env.CCBOX_USER);
  await page.fill("#password", process.env.CCBOX_PASSWORD);
  await Promise.all([page.waitForURL(`${BASE}/`), page.click("#signin")]);
}

async function submit(page, selector) {
  await Promise.all([page.waitForNavigation(), page.click(selector)]);
}

async function applied(page, what) {
  const note = page.locator("#applied");
  check(await note.isVisible(), `${what}: saved (${page.url()})`);
  const text = await note.textContent();
  // the build phase ends in English, which is stored on the user
  check(text.includes("已保存并应用") || text.includes("Saved and applied"),
    `${what} applied live: ${text}`);
}

async function audioDuration(audio) {
  return audio.evaluate((el) => new Promise((resolve, reject) => {
    if (el.readyState >= 1) return resolve(el.duration);
    el.addEventListener("loadedmetadata", () => resolve(el.duration), { once: true });
    el.addEventListener("error", () => reject(new Error(`audio error ${el.error?.code}`)), { once: true });
    el.load();
  }));
}

async function build(page) {
  step("an extension");
  await page.goto(`${BASE}/extensions/new`);
  await page.fill("#number", EXT);
  await page.fill("#ext-name", "网页分机");
  await submit(page, "#save");
  console.log(`ext-password=${(await page.textContent("#sip-password")).trim()}`);

  step("an agent with a skill, and a queue");
  await page.click("#nav-admin");
  await page.click("#admin-agents");
  await page.click("#add");
  await page.fill("#f-id", "web1");
  await page.fill("#f-name", "网页坐席");
  await page.fill("#f-skills-0-key", "gas");
  await page.fill("#f-skills-0-value", "5");
  await submit(page, "#save");
  await applied(page, "agent");
  check(await page.locator('tr[data-key="web1"]').isVisible(), "agent listed");
  await page.goto(`${BASE}/admin/queues/new`);
  await page.fill("#f-name", "webq");
  await page.fill("#f-ring_timeout", "zehn");
  await page.fill("#f-members-0-agent", "web1");
  await submit(page, "#save");
  const qerr = await page.locator('[data-field="ring_timeout"] .field-error').textContent();
  check(qerr.includes("expected a number"), `bad ring timeout shown on its field: ${qerr}`);
  await shot(page, "zh-admin-queue-error");
  await page.fill("#f-ring_timeout", "12");
  await submit(page, "#save");
  await applied(page, "queue");
  check((await page.locator('tr[data-key="webq"]').textContent()).includes("web1"), "member");

  step("an IVR flow: key 1 wired to a node that does not exist yet");
  await page.click("#admin-flows");
  await page.fill("#new-flow-id", "webflow");
  await page.fill("#new-flow-name", "网页流程");
  await submit(page, "#new-flow-create");
  await page.fill("#new-node-id", "menu");
  await page.selectOption("#new-node-kind", "menu");
  await submit(page, "#add-node");
  await page.selectOption("#flow-entry", "menu");
  await page.fill("#n-menu-prompt", "gas_main_menu");
  await page.fill("#n-menu-branches-0-key", "1");
  await page.fill("#n-menu-branches-0-value", "to_agent");
  await page.fill("#n-menu-on_timeout", "start");
  await page.fill("#n-menu-on_invalid", "start");
  await submit(page, "#check-flow");
  check(await page.locator("#flow-invalid").isVisible(), "the flow is reported invalid");
  const onNode = await page.locator("#node-menu .field-error").allTextContents();
  check(onNode.some((t) => t.includes("to_agent")), `error on the menu node: ${onNode}`);
  check(await page.locator('#flow-graph g.gnode.error[data-node="menu"]').count() === 1,
    "the menu node is red in the graph");
  await shot(page, "zh-admin-flow-error");
  step("fixed: the node is added, the flow checks clean and is activated");
  await page.fill("#new-node-id", "to_agent");
  await page.selectOption("#new-node-kind", "transfer");
  await submit(page, "#add-node");
  await page.selectOption("#n-to_agent-to", "extension");
  await page.fill("#n-to_agent-target", EXT);
  await submit(page, "#check-flow");
  check(await page.locator("#flow-valid").isVisible(), "no errors after the fix");
  check(await page.locator(".node-error, .field-error").count() === 0, "no error left");
  await submit(page, "#save-flow");
  await applied(page, "flow");
  check((await page.locator('#versions tr[data-version="1"]').textContent()).includes("是"),
    "version 1 is active");
  await shot(page, "zh-admin-flow");

  step("a DID runs the flow");
  await page.goto(`${BASE}/admin/dids/new`);
  await page.fill("#f-number", DID);
  await page.fill("#f-name", "网页热线");
  await page.fill("#f-target", "flow:webflow");
  await submit(page, "#save");
  await applied(page, "DID");

  step("prompts: a broken upload is refused, a good one plays");
  await page.click("#admin-prompts");
  await page.fill("#prompt-name", "web_hello");
  await page.setInputFiles("#prompt-file", process.env.CCBOX_BAD_WAV);
  await submit(page, "#prompt-upload-button");
  const bad = await page.textContent("#upload-error");
  check(bad.includes("不能作为提示音") && bad.includes("44100"), `clear error: ${bad}`);
  check(await page.locator('tr[data-prompt="web_hello"]').count() === 0, "nothing stored");
  await page.fill("#prompt-name", "web_hello");
  await page.fill("#prompt-text", "您好");
  await page.setInputFiles("#prompt-file", process.env.CCBOX_WAV);
  await submit(page, "#prompt-upload-button");
  await applied(page, "prompt");
  const audio = page.locator('tr[data-prompt="web_hello"] audio');
  const duration = await audioDuration(audio);
  console.log(`prompt duration: ${duration}`);
  check(duration > 1.5 && duration < 2.5, `duration ${duration} of a 2 s prompt`);
  const played = await audio.evaluate(async (el) => {
    await el.play();
    await new Promise((r) => setTimeout(r, 300));
    return el.currentTime;
  });
  check(played > 0, "playback advanced");
  await shot(page, "zh-admin-prompts");

  step("every admin page, in Chinese then in English");
  const pages = [
    ["", "index"], ["/trunks", "trunks"], ["/dids", "dids"], ["/hardware", "hardware"],
    ["/queues", "queues"], ["/queues/webq/edit", "queue-edit"], ["/agents", "agents"],
    ["/acd", "acd"], ["/flows", "flows"], ["/flows/webflow", "flow"],
    ["/schedules", "schedules"], ["/schedules/new", "schedule-new"],
    ["/calendars", "calendars"], ["/calendars/new", "calendar-new"],
    ["/caller_lists", "caller-lists"], ["/blacklist", "blacklist"],
    ["/blacklist/new", "blacklist-new"], ["/autolock", "autolock"],
    ["/prompts", "prompts"], ["/moh", "moh"], ["/features", "features"],
    ["/features/" + EXT + "/edit", "features-edit"], ["/ringgroups/new", "ringgroup-new"],
    ["/rooms", "rooms"], ["/rooms/new", "room-new"],
    ["/site", "site"],
  ];
  for (const lang of ["zh", "en"]) {
    if (lang === "en") {
      await page.click("#lang-switch");
      await page.waitForLoadState();
      check((await page.locator("html").getAttribute("lang")) === "en", "English");
    }
    for (const [url, name] of pages) {
      const resp = await page.goto(`${BASE}/admin${url}`);
      check(resp.status() === 200, `${url}: ${resp.status()}`);
      const nav = await page.textContent("#nav-admin");
      check(nav === (lang === "zh" ? "系统配置" : "Configuration"), `${url} in ${lang}`);
      await shot(page, `${lang}-admin-${name}`);
    }
  }
}

async function blacklist(page) {
  step("a blacklist entry");
  await page.goto(`${BASE}/admin/blacklist/new`);
  await page.fill("#f-number", process.env.CCBOX_BLOCK);
  await page.selectOption("#f-treatment", "reject");
  await page.fill("#f-cause", "21");
  await page.fill("#f-note", "骚扰电话");
  await submit(page, "#save");
  await applied(page, "blacklist entry");
  check(await page.locator(`tr[data-key="${process.env.CCBOX_BLOCK}"]`).isVisible(), "listed");
  await shot(page, "zh-admin-blacklist-added");
}

const { context, page } = await launch("zh-CN");
try {
  await signIn(page);
  if (PHASE === "build") await build(page);
  else if (PHASE === "blacklist") await blacklist(page);
  else throw new Error(`unknown CCBOX_PHASE ${PHASE}`);
  console.log("ok");
} finally {
  await context.close();
}
