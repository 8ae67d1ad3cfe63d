// A real box (switchd + webd) and sipp phones, driven from pytest: an agent signs in at
// the desk and goes ready; a supervisor watches /live. pytest starts a caller into the
// queue when this script prints "step: waiting for call". The screen pop must show the
// caller while the agent's phone still rings; the supervisor page must follow within
// 1 s; the agent hangs up from the desk and writes a note; the supervisor plays the
// recording. Screenshots of the key pages in Chinese and English.
import { BASE, check, launch, shot, step } from "./lib.mjs";

const AGENT_EXT = process.env.CCBOX_AGENT_EXT;
const SUP_EXT = process.env.CCBOX_SUP_EXT;

async function signIn(page, name) {
  await page.goto(`${BASE}/signin`);
  await page.fill("#name", name);
  await page.fill("#password", process.env.CCBOX_PASSWORD);
  await Promise.all([page.waitForURL(/\/($|\?)/), page.click("#signin")]);
}

async function pickExtension(page, path, ext) {
  await page.goto(`${BASE}${path}`);
  await page.selectOption("#extension", ext);
  await Promise.all([page.waitForURL(`${BASE}${path}`), page.click("#use-extension")]);
}

const agentBrowser = await launch("zh-CN");
const supBrowser = await launch("zh-CN");
const desk = agentBrowser.page;
const live = supBrowser.page;
try {
  step("agent signs in and picks the phone");
  await signIn(desk, process.env.CCBOX_AGENT);
  await pickExtension(desk, "/desk", AGENT_EXT);
  await desk.waitForFunction(() => document.getElementById("state").dataset.state === "ready");

  step("not ready with a reason, then ready");
  await desk.selectOption("#reason", "lunch");
  await desk.click("#notready");
  await desk.waitForFunction(() => document.getElementById("state").dataset.state === "not-ready");
  check((await desk.textContent("#state")).includes("用餐"), "reason shown in Chinese");
  await desk.click("#ready");
  await desk.waitForFunction(() => document.getElementById("state").dataset.state === "ready");
  await shot(desk, "zh-desk");

  step("supervisor opens the live view");
  await signIn(live, process.env.CCBOX_SUP);
  await pickExtension(live, "/live", SUP_EXT);
  await live.waitForFunction((ext) => {
    const row = document.querySelector(`#agents tr[data-agent="${ext}"]`);
    return row && row.dataset.state === "ready";
  }, AGENT_EXT);

  step("waiting for call");
  await desk.waitForSelector("#pop:not([hidden])", { timeout: 30000 });
  const poppedAt = Date.now();
  const atPop = await desk.evaluate(() => ({
    call: document.getElementById("call-state").dataset.state,
    agent: document.getElementById("state").dataset.state,
    number: document.getElementById("pop-number").textContent,
    name: document.getElementById("pop-name").textContent,
  }));
  console.log(`pop: ${JSON.stringify(atPop)}`);
  check(atPop.call === "alerting" && atPop.agent === "ringing", "popped while the phone rings");
  check(atPop.number === process.env.CCBOX_CALLER, `caller number ${atPop.number}`);
  check(atPop.name === process.env.CCBOX_CUSTOMER, `customer name ${atPop.name}`);
  await live.waitForFunction((ext) => {
    const row = document.querySelector(`#agents tr[data-agent="${ext}"]`);
    return row && row.dataset.state === "ringing";
  }, AGENT_EXT, { timeout: 1000 });
  console.log(`supervisor saw ringing ${Date.now() - poppedAt} ms after the pop`);
  await shot(desk, "zh-desk-pop");

  step("the agent answers on the phone");
  await desk.waitForFunction(() => document.getElementById("call-state").dataset.state === "connected",
    null, { timeout: 15000 });
  const answeredAt = Date.now();
  check(answeredAt - poppedAt > 1000, `pop ${answeredAt - poppedAt} ms before the answer`);
  await live.waitForFunction((ext) => {
    const row = document.querySelector(`#agents tr[data-agent="${ext}"]`);
    return row && row.dataset.state === "on-call";
  }, AGENT_EXT, { timeout: 1000 });
  const callerCell = await live.textContent(`#agents tr[data-agent="${AGENT_EXT}"] .caller`);
  check(callerCell === process.env.CCBOX_CALLER, `current caller on the supervisor page: ${callerCell}`);
  console.log(`supervisor saw on-call ${Date.now() - answeredAt} ms after the answer`);
  const callRow = await live.locator("#calls tbody tr").first().textContent();
  check(callRow.includes(process.env.CCBOX_CALLER), `the call in the supervisor's list: ${callRow}`);
  await shot(live, "zh-live");

  step("talk for a while, hang up from the desk, write a note");
  await new Promise((r) => setTimeout(r, 2500));
  await desk.click("#hangup");
  await desk.waitForFunction(() => document.getElementById("call-state").dataset.state === "");
  await desk.fill("#note-text", process.env.CCBOX_NOTE);
  await desk.selectOption("#note-disposition", "resolved");
  await desk.click("#save-note");
  await desk.waitForFunction(() => document.getElementById("desk").dataset.noteSaved);
  await live.waitForFunction((ext) => {
    const row = document.querySelector(`#agents tr[data-agent="${ext}"]`);
    return row && row.dataset.state !== "on-call";
  }, AGENT_EXT, { timeout: 1000 });

  step("the supervisor plays the recording");
  await live.goto(`${BASE}/cdrs`);
  await shot(live, "zh-cdrs-search");
  await live.click("#cdrs tbody tr:first-child td a");
  const audio = live.locator("audio#recording");
  await audio.waitFor();
  const duration = await audio.evaluate((el) => new Promise((resolve, reject) => {
    if (el.readyState >= 1) return resolve(el.duration);
    el.addEventListener("loadedmetadata", () => resolve(el.duration), { once: true });
    el.addEventListener("error", () => reject(new Error(`audio error ${el.error?.code}`)), { once: true });
  }));
  console.log(`recording duration: ${duration}`);
  check(duration > 2, `the recording lasts as long as the talk (${duration} s)`);
  await live.waitForFunction(() => document.getElementById("player").dataset.waveformLoaded === "2");
  const played = await audio.evaluate(async (el) => {
    el.muted = true;
    await el.play();
    await new Promise((r) => setTimeout(r, 700));
    el.pause();
    return el.currentTime;
  });
  check(played > 0.2, `playback advanced to ${played}`);
  check((await live.textContent("#notes")).includes(process.env.CCBOX_NOTE), "note on the record");
  await shot(live, "zh-cdr-player");

  step("wallboard and status, then everything in English");
  await live.goto(`${BASE}/wallboard`);
  await live.waitForFunction(() => document.body.dataset.rendered);
  await shot(live, "zh-wallboard");
  await live.goto(`${BASE}/status`);
  await shot(live, "zh-status");
  await live.goto(`${BASE}/live`);
  await Promise.all([live.waitForURL(`${BASE}/live`), live.click("#lang-switch")]);
  check((await live.locator("html").getAttribute("lang")) === "en", "supervisor in English");
  await live.waitForFunction(() => document.getElementById("live").dataset.rendered);
  await shot(live, "en-live");
  await live.goto(`${BASE}/wallboard`);
  await live.waitForFunction(() => document.body.dataset.rendered);
  await shot(live, "en-wallboard");
  await live.goto(`${BASE}/status`);
  await shot(live, "en-status");
  await live.goto(`${BASE}/cdrs`);
  await live.click("#cdrs tbody tr:first-child td a");
  await live.waitForFunction(() => document.getElementById("player").dataset.waveformLoaded === "2");
  await shot(live, "en-cdr-player");
  await desk.goto(`${BASE}/desk`);
  await Promise.all([desk.waitForURL(`${BASE}/desk`), desk.click("#lang-switch")]);
  await desk.waitForFunction(() => document.getElementById("state").dataset.state === "ready");
  check((await desk.textContent("#state")).includes("ready"), "agent state in English");
  await shot(desk, "en-desk");
  console.log("ok");
} finally {
  await agentBrowser.context.close();
  await supBrowser.context.close();
}
