// Drives the Microsoft 365 Agents Playground's web UI as a person would: types in the
// compose box, fills the card's inputs by their labels, presses its buttons.
//
//   node browser/playground.mjs URL SCENARIO ARTIFACTS_DIR
//
// SCENARIO is adviser, coach or head (the Playground talks as its configured current
// user; tests/test_e2e.py starts it with the right one). Progress goes to stdout;
// on failure a screenshot and the page's HTML go to ARTIFACTS_DIR and it exits 1.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openBrowser } from "./chromium.mjs";

const [url, scenario, artifacts] = process.argv.slice(2);
const STEP_TIMEOUT = 20_000;

function say(text) {
  console.log(`[${scenario}] ${text}`);
}

// A card the bot sent, found by text it shows.
function card(page, text) {
  return page.locator(".ac-adaptiveCard", { hasText: text });
}

async function send(page, text) {
  const box = page.getByRole("textbox").last();
  await box.click();
  await page.keyboard.type(text);
  await page.keyboard.press("Enter");
  say(`typed "${text}"`);
}

async function choose(page, form, label, optionText) {
  const box = form.getByRole("combobox", { name: label });
  await box.click();
  await box.fill(optionText);
  await page.getByRole("option", { name: new RegExp(optionText) }).first().click();
  say(`chose "${optionText}" for ${label}`);
}

async function chooseFirst(page, form, label) {
  await form.getByRole("combobox", { name: label }).click();
  const option = page.getByRole("option").first();
  const text = (await option.textContent()) || "";
  await option.click();
  say(`chose "${text.trim()}" for ${label}`);
}

// The note of visit whose next steps become the head's actions.
async function adviser(page) {
  await send(page, "visit oakfield");
  const form = card(page, "Note of visit");
  await form.getByLabel("Focus").waitFor({ timeout: STEP_TIMEOUT });
  await form.getByLabel("Focus").fill("Early reading; attendance");
  await form.getByLabel("Strengths").fill("Phonics teaching is consistent across KS1.");
  await form
    .getByLabel("Next steps (one per line; each becomes an action)")
    .fill("Embed the phonics catch-up programme in Year 2\nShare the attendance plan with governors");
  await form.getByRole("button", { name: "Save note of visit" }).click();
  await card(page, "Note of visit saved").waitFor({ timeout: STEP_TIMEOUT });
  say("saw the confirmation: Note of visit saved");
}

async function coach(page) {
  await send(page, "log coaching");
  const form = card(page, "Log a coaching session");
  await form.getByRole("combobox", { name: "Teacher coached" }).waitFor({ timeout: STEP_TIMEOUT });
  await choose(page, form, "Teacher coached", "Liam Doherty");
  await chooseFirst(page, form, "Focus strand");
  await form
    .getByLabel("Action step (one concrete step)")
    .fill("Cold-call three pupils before taking hands up");
  await form
    .getByLabel("Notes (only you and the teacher see these)")
    .fill("Good pace; questioning stretched the top group.");
  await form.getByRole("button", { name: "Save" }).click();
  const saved = card(page, "Coaching session saved");
  await saved.waitFor({ timeout: STEP_TIMEOUT });
  for (const shown of ["Liam Doherty", "Cold-call three pupils before taking hands up"]) {
    await saved.getByText(shown).first().waitFor({ timeout: STEP_TIMEOUT });
  }
  // Saved through Action.Execute: the confirmation replaced the form in place.
  if ((await card(page, "Log a coaching session").count()) !== 0) {
    throw new Error("the form is still shown next to the confirmation");
  }
  say("saw the confirmation: Coaching session saved, for Liam Doherty");
}

async function head(page) {
  await send(page, "my actions");
  const list = card(page, "Your open actions");
  const first = "Embed the phonics catch-up programme in Year 2";
  await list.getByText(first).waitFor({ timeout: STEP_TIMEOUT });
  const cardsBefore = await page.locator(".ac-adaptiveCard").count();
  const markDoneBefore = await list.getByRole("button", { name: "Mark done" }).count();
  say(`saw ${first} among ${markDoneBefore} actions to mark done`);
  // The demo's term left other actions at Oakfield: press this row's own button (the
  // innermost container that shows the action and has a "Mark done").
  const row = list
    .locator(".ac-container")
    .filter({ hasText: first })
    .filter({ has: page.getByRole("button", { name: "Mark done" }) })
    .last();
  await row.getByRole("button", { name: "Mark done" }).first().click();
  const refreshed = card(page, `Marked done, awaiting the adviser's rating: ${first}`);
  await refreshed.waitFor({ timeout: STEP_TIMEOUT });
  // Refreshed in place (Action.Execute): no new card. Done, the action waits for the
  // adviser's rating: still listed, marked so, with one "Mark done" button fewer.
  const cardsAfter = await page.locator(".ac-adaptiveCard").count();
  if (cardsAfter !== cardsBefore) {
    throw new Error(`expected the card to refresh in place: ${cardsBefore} cards, now ${cardsAfter}`);
  }
  await refreshed.getByText("Done, awaiting the adviser's rating").first().waitFor({ timeout: STEP_TIMEOUT });
  const markDone = await refreshed.getByRole("button", { name: "Mark done" }).count();
  if (markDone !== markDoneBefore - 1) {
    throw new Error(`expected ${markDoneBefore - 1} "Mark done" left, found ${markDone}`);
  }
  await refreshed.getByText("Share the attendance plan with governors").waitFor({ timeout: STEP_TIMEOUT });
  say("saw the card refresh: marked done, awaiting the adviser's rating");
}

const scenarios = { adviser, coach, head };

const browser = await openBrowser({ viewport: { width: 1400, height: 1100 } });
const page = await browser.context.newPage();
let failed = false;
try {
  if (!scenarios[scenario]) throw new Error(`unknown scenario ${scenario}`);
  await page.goto(url);
  // The Playground installs the app on load; Waypoint's welcome card means the round trip works.
  await card(page, "Welcome to Waypoint").first().waitFor({ timeout: 30_000 });
  say("the Playground is connected to Waypoint");
  await scenarios[scenario](page);
  mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: join(artifacts, `${scenario}.png`) });
} catch (error) {
  failed = true;
  console.error(`[${scenario}] FAILED: ${error.message}`);
  try {
    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: join(artifacts, `${scenario}-failed.png`), fullPage: true });
    writeFileSync(join(artifacts, `${scenario}-failed.html`), await page.content());
    console.error(`[${scenario}] screenshot and page in ${artifacts}`);
  } catch (ignored) {
    // The failure above is what matters.
  }
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
