// Drives the Microsoft 365 Agents Playground's web UI as a person would: types in the
// compose box, fills the card's inputs by their labels, presses its buttons.
//
//   node browser/playground.mjs URL SCENARIO ARTIFACTS_DIR
//
// SCENARIO is adviser, coach, head, subject-lead or teacher (the Playground talks as its configured current
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

function escaped(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

// Staff effort. A job is what a person does in chat: its command, typed once, then one
// card's fields and buttons until the confirmation. Every interaction goes through a
// Job, which counts it and names the card it happened on; the seconds run from the
// command to the confirmation. done() prints one `EFFORT {json}` line per job, which
// tests/test_e2e.py reads into the staff-effort table and checks.
class Job {
  constructor(page, name) {
    this.page = page;
    this.name = name;
    this.messages = 0;
    this.fields = 0;
    this.buttons = 0;
    this.cards = new Set();
    this.started = null;
  }

  // The message that starts the job, typed in the compose box.
  async type(text) {
    this.started ??= performance.now();
    const box = this.page.getByRole("textbox").last();
    await box.click();
    await this.page.keyboard.type(text);
    await this.page.keyboard.press("Enter");
    this.messages += 1;
    say(`typed "${text}"`);
  }

  // The card the answer brought, found by text it shows, once it shows `ready` (a
  // label or button); the fields and buttons below are looked for inside it.
  async form(title, ready) {
    const form = { title, locator: card(this.page, title) };
    await ready(form.locator).waitFor({ timeout: STEP_TIMEOUT });
    return form;
  }

  // One text field: typed into by its label.
  async fill(form, label, text) {
    await form.locator.getByLabel(label).fill(text);
    this.field(form, `filled ${label}`);
  }

  // One choice from a compact (drop-down) choice set, searched for by its text; with
  // no text, its first option.
  async choose(form, label, optionText) {
    const box = form.locator.getByRole("combobox", { name: label });
    await box.click();
    if (optionText) await box.fill(optionText);
    const option = optionText
      ? this.page.getByRole("option", { name: new RegExp(`^${escaped(optionText)}(?!\\w)`) }).first()
      : this.page.getByRole("option").first();
    const shown = ((await option.textContent()) || "").trim();
    await option.click();
    this.field(form, `chose "${shown}" for ${label}`);
  }

  // One expanded choice set (radio buttons, or check boxes for several): every option
  // named is ticked; the whole set counts as one field. A radio button is named by its
  // option, in a group named by the set's label; a check box's name runs from the
  // set's label to its option.
  async tick(form, label, optionNames) {
    const starts = new RegExp(`^${escaped(label)}(?!\\w)`);
    for (const option of optionNames) {
      const box =
        optionNames.length > 1
          ? form.locator.getByRole("checkbox", {
              name: new RegExp(`^${escaped(label)}(?!\\w)[\\s\\S]*\\b${escaped(option)}$`),
            })
          : form.locator.getByRole("radiogroup", { name: starts }).getByRole("radio", { name: option, exact: true });
      await box.check();
    }
    this.field(form, `ticked ${optionNames.join(", ")} for ${label}`);
  }

  field(form, what) {
    this.cards.add(form.title);
    this.fields += 1;
    say(what);
  }

  // The part of a card (an Adaptive Card container) that shows `text`: one row of a list.
  row(form, text) {
    const rows = form.locator.locator(".ac-container:not(.ac-adaptiveCard)", { hasText: text });
    return { title: form.title, locator: rows.last() };
  }

  // A button on the card, pressed.
  async press(form, name) {
    await form.locator.getByRole("button", { name, exact: true }).click();
    this.cards.add(form.title);
    this.buttons += 1;
    say(`pressed ${name}`);
  }

  // The confirmation is shown: the job is done.
  async done(confirmation) {
    await confirmation.waitFor({ timeout: STEP_TIMEOUT });
    const seconds = (performance.now() - this.started) / 1000;
    const effort = {
      job: this.name,
      scenario,
      messages: this.messages,
      fields: this.fields,
      buttons: this.buttons,
      cards: [...this.cards],
      seconds: Math.round(seconds * 10) / 10,
    };
    console.log(`EFFORT ${JSON.stringify(effort)}`);
  }
}

// The note of visit whose next steps become the head's actions.
async function adviser(page) {
  const job = new Job(page, "Record a note of visit");
  await job.type("visit oakfield");
  const form = await job.form("Note of visit", (c) => c.getByLabel("Focus"));
  await job.fill(form, "Focus", "Early reading; attendance");
  await job.fill(form, "Strengths", "Phonics teaching is consistent across KS1.");
  await job.fill(
    form,
    "Next steps (one per line; each becomes an action)",
    "Embed the phonics catch-up programme in Year 2\nShare the attendance plan with governors",
  );
  await job.press(form, "Save note of visit");
  await job.done(card(page, "Note of visit saved"));
  say("saw the confirmation: Note of visit saved");
}

async function coach(page) {
  const job = new Job(page, "Log a coaching session");
  await job.type("log coaching");
  const form = await job.form("Log a coaching session", (c) =>
    c.getByRole("combobox", { name: "Teacher coached" }),
  );
  await job.choose(form, "Teacher coached", "Liam Doherty");
  await job.choose(form, "Focus strand");
  await job.fill(form, "Action step (one concrete step)", "Cold-call three pupils before taking hands up");
  await job.fill(
    form,
    "Notes (only you and the teacher see these)",
    "Good pace; questioning stretched the top group.",
  );
  await job.press(form, "Save");
  const saved = card(page, "Coaching session saved");
  for (const shown of ["Liam Doherty", "Cold-call three pupils before taking hands up"]) {
    await saved.getByText(shown).first().waitFor({ timeout: STEP_TIMEOUT });
  }
  await job.done(saved);
  // Saved through Action.Execute: the confirmation replaced the form in place.
  if ((await card(page, "Log a coaching session").count()) !== 0) {
    throw new Error("the form is still shown next to the confirmation");
  }
  say("saw the confirmation: Coaching session saved, for Liam Doherty");
}

async function head(page) {
  const job = new Job(page, "Mark an action done");
  await job.type("my actions");
  const first = "Embed the phonics catch-up programme in Year 2";
  const list = await job.form("Your open actions", (c) => c.getByText(first));
  const cardsBefore = await page.locator(".ac-adaptiveCard").count();
  const markDoneBefore = await list.locator.getByRole("button", { name: "Mark done" }).count();
  say(`saw ${first} among ${markDoneBefore} actions to mark done`);
  // The demo's term left other actions at Oakfield: press this row's own button.
  await job.press(job.row(list, first), "Mark done");
  const refreshed = card(page, `Marked done, awaiting the adviser's rating: ${first}`);
  await job.done(refreshed);
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
// Zoë Fairbairn leads Mathematics at Oakfield only: the card names it, no choice needed.
async function subjectLead(page) {
  const job = new Job(page, "Submit a QA summary");
  await job.type("qa");
  const form = await job.form("QA summary:", (c) => c.getByLabel("Strengths"));
  await job.fill(form, "Strengths", "Fluent recall of number facts in Years 3 and 4.");
  await job.fill(form, "Areas for development (pedagogy)", "Reasoning prompts in KS2 problem solving.");
  await job.tick(form, "Evidence", ["Deep dive", "Book look"]);
  await job.tick(form, "Judgement", ["Amber"]);
  await job.fill(form, "Actions", "Model reasoning stems in every Year 5 lesson.");
  await job.press(form, "Submit");
  await job.done(card(page, "QA summary submitted"));
  say("saw the confirmation: QA summary submitted");
}

// Liam Doherty teaches at Oakfield: anyone on a school's staff raises a concern.
async function teacher(page) {
  const job = new Job(page, "Raise an attendance concern");
  await job.type("raise concern");
  const form = await job.form("Raise an attendance concern", (c) =>
    c.getByLabel("Pupil reference (MIS id or initials, not a name)"),
  );
  await job.choose(form, "School", "Oakfield Primary");
  await job.fill(form, "Pupil reference (MIS id or initials, not a name)", "77031");
  await job.choose(form, "Year group", "Year 4");
  await job.fill(form, "Attendance this academic year (%)", "86.5");
  await job.fill(form, "Unauthorised absence sessions in the last 10 school weeks", "6");
  await job.choose(form, "Concern", "Persistent absence");
  await job.choose(form, "Stage (support first)", "Listen and understand");
  await job.press(form, "Raise concern");
  await job.done(card(page, "Attendance concern raised"));
  say("saw the confirmation: Attendance concern raised");
}

const scenarios = { adviser, coach, head, "subject-lead": subjectLead, teacher };

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
