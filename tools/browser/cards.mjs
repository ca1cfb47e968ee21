// The official Adaptive Cards renderer (npm adaptivecards 3.x) in headless Chromium,
// with Microsoft Teams' host configs and container CSS (npm adaptivecards-designer).
//
//   node browser/cards.mjs check CARDS.json        -> {"results": [{id, theme, warnings, links, text}]} on stdout
//   node browser/cards.mjs screenshots CARDS.json DIR  -> DIR/<id>-<theme>.png and DIR/<id>-narrow-<theme>.png
//   node browser/cards.mjs words CARDS.json        -> {"results": [{id, width, problems}]} on stdout
//
// CARDS.json is [{"id": "...", "card": {...}}, ...]. One browser, one page, every card.
import { readFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { openBrowser } from "./chromium.mjs";

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));
const rendererScript = require.resolve("adaptivecards/dist/adaptivecards.min.js");
// The renderer's own Markdown path (window.markdownit, as the designer loads it):
// CommonMark, as Teams reads a TextBlock.
const markdownScript = require.resolve("markdown-it/dist/markdown-it.min.js");
const designer = dirname(require.resolve("adaptivecards-designer/package.json"));
const THEMES = ["light", "dark"];
const hostConfigs = Object.fromEntries(
  THEMES.map((theme) => [
    theme,
    JSON.parse(readFileSync(join(designer, "lib/hostConfigs", `microsoft-teams-${theme}.json`), "utf8")),
  ]),
);
// The Teams container's page colours, as the designer shows them.
const BACKGROUND = { light: "#F6F6F6", dark: "#201E1F" };

function teamsCss(theme) {
  return readFileSync(join(designer, "dist/containers", `teams-container-${theme}.css`), "utf8");
}

// Runs in the page: parse with a 1.5 serialization context, collect every parse
// event, then validateProperties(), then render (a throw is a warning too). The
// rendered card's links and images, and its text, say what Markdown made of it.
function checkCards({ cards, hostConfigs }) {
  const AC = window.AdaptiveCards;
  const results = [];
  for (const { id, card: json } of cards) {
    for (const [theme, hostConfig] of Object.entries(hostConfigs)) {
      const warnings = [];
      let links = [];
      let text = "";
      const describe = (phase, e) => {
        const source = e.source;
        const type = source && source.getJsonTypeName ? source.getJsonTypeName() : "";
        const where = type ? ` (${type}${source.id ? ` "${source.id}"` : ""})` : "";
        return `${phase}: ${AC.ValidationEvent[e.event]}${where}: ${e.message}`;
      };
      try {
        const card = new AC.AdaptiveCard();
        card.hostConfig = new AC.HostConfig(hostConfig);
        const context = new AC.SerializationContext(AC.Versions.v1_5);
        card.parse(json, context);
        for (let i = 0; i < context.eventCount; i++) {
          warnings.push(describe("parse", context.getEventAt(i)));
        }
        for (const e of card.validateProperties().validationEvents) {
          warnings.push(describe("validate", e));
        }
        const element = card.render();
        if (!element) {
          warnings.push("render: the card rendered nothing");
        } else {
          links = Array.from(element.querySelectorAll("a, img"), (node) => node.outerHTML);
          text = element.textContent;
        }
      } catch (error) {
        warnings.push(`exception: ${error && error.message ? error.message : error}`);
      }
      results.push({ id, theme, warnings, links, text });
    }
  }
  return results;
}

async function check(cards) {
  const browser = await openBrowser();
  try {
    const page = await browser.context.newPage();
    const pageErrors = [];
    page.on("pageerror", (error) => pageErrors.push(String(error)));
    await page.setContent("<!doctype html><html><body></body></html>");
    await page.addScriptTag({ path: rendererScript });
    await page.addScriptTag({ path: markdownScript });
    const results = await page.evaluate(checkCards, { cards, hostConfigs });
    return { results, pageErrors };
  } finally {
    await browser.close();
  }
}

// The widths a card is drawn at: Teams' desktop chat column and its narrowest (a phone,
// or the desktop app squeezed), about 320 px for the whole message.
const WIDTHS = { desktop: 460, narrow: 320 };

// Each card in Teams' chat frame, with Waypoint's icon where the designer puts the bot's.
function frameHtml(theme, iconDataUrl) {
  return `<!doctype html><html><head><meta charset="utf-8"><style>
${teamsCss(theme)}
body { margin: 0; padding: 16px; background: ${BACKGROUND[theme]};
       font-family: "Segoe UI", system-ui, "DejaVu Sans", sans-serif; }
#shot { display: inline-block; padding: 8px; background: ${BACKGROUND[theme]}; }
.teams-inner-frame { width: ${WIDTHS.desktop}px; min-width: 0; }
.ac-input, .ac-input-container input { box-sizing: border-box; }
.teams-bot-logo { background-image: url(${iconDataUrl}); background-size: 40px 40px; }
</style></head><body><div id="shot"><div class="teams-frame">
<div class="teams-hexagon-outer"><div class="teams-hexagon-inner"><div class="teams-bot-logo"></div></div></div>
<div class="teams-inner-frame"><div class="teams-botNameAndTime">Waypoint    9:41 AM</div>
<div id="card" class="teams-card"></div></div></div></div></body></html>`;
}

function renderInto({ json, hostConfig, width }) {
  const AC = window.AdaptiveCards;
  const card = new AC.AdaptiveCard();
  card.hostConfig = new AC.HostConfig(hostConfig);
  card.parse(json, new AC.SerializationContext(AC.Versions.v1_5));
  document.querySelector(".teams-inner-frame").style.width = `${width}px`;
  const host = document.getElementById("card");
  host.replaceChildren(card.render());
}

// Runs in the page, on the card just drawn: every word of every TextBlock in a table's
// cell (a Table's cell or a ColumnSet's column) must sit on one line inside its cell.
// A word the cell is too narrow for is broken over lines ("Teach/ers") or runs out of
// the cell (cut off, or over its neighbour).
function wordsTooWide() {
  const CELL = ".ac-columnSet > .ac-container, [role=cell], [role=columnheader]";
  const problems = [];
  const host = document.getElementById("card");
  for (const cell of host.querySelectorAll(CELL)) {
    const box = cell.getBoundingClientRect();
    for (const block of cell.querySelectorAll(".ac-textBlock")) {
      if (block.closest(CELL) !== cell) continue;
      const walker = document.createTreeWalker(block, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        for (const match of node.data.matchAll(/\S+/g)) {
          const range = document.createRange();
          range.setStart(node, match.index);
          range.setEnd(node, match.index + match[0].length);
          const rects = Array.from(range.getClientRects()).filter((r) => r.width > 0);
          const lines = new Set(rects.map((r) => Math.round(r.top))).size;
          const left = Math.min(...rects.map((r) => r.left));
          const right = Math.max(...rects.map((r) => r.right));
          const where = `"${match[0]}" in a ${Math.round(box.width)} px cell`;
          if (lines > 1) {
            problems.push(`${where}: broken over ${lines} lines`);
          } else if (left < box.left - 0.5 || right > box.right + 0.5) {
            problems.push(`${where}: ${Math.round(right - left)} px wide, it runs out of its cell`);
          }
        }
      }
    }
  }
  return problems;
}

async function words(cards) {
  const icon = readFileSync(join(here, "..", "..", "manifest", "color.png")).toString("base64");
  const browser = await openBrowser({ viewport: { width: 600, height: 800 }, locale: "en-GB" });
  try {
    const page = await browser.context.newPage();
    const pageErrors = [];
    page.on("pageerror", (error) => pageErrors.push(String(error)));
    await page.setContent(frameHtml("light", `data:image/png;base64,${icon}`));
    await page.addScriptTag({ path: rendererScript });
    await page.addScriptTag({ path: markdownScript });
    const results = [];
    for (const { id, card } of cards) {
      for (const [name, width] of Object.entries(WIDTHS)) {
        await page.evaluate(renderInto, { json: card, hostConfig: hostConfigs.light, width });
        results.push({ id, width: name, problems: await page.evaluate(wordsTooWide) });
      }
    }
    return { results, pageErrors };
  } finally {
    await browser.close();
  }
}

async function screenshots(cards, outDir) {
  mkdirSync(outDir, { recursive: true });
  const icon = readFileSync(join(here, "..", "..", "manifest", "color.png")).toString("base64");
  const browser = await openBrowser({ viewport: { width: 600, height: 800 }, locale: "en-GB" });
  const written = [];
  try {
    const page = await browser.context.newPage();
    for (const theme of THEMES) {
      await page.setContent(frameHtml(theme, `data:image/png;base64,${icon}`));
      await page.addScriptTag({ path: rendererScript });
      await page.addScriptTag({ path: markdownScript });
      for (const { id, card } of cards) {
        for (const [name, width] of Object.entries(WIDTHS)) {
          await page.evaluate(renderInto, { json: card, hostConfig: hostConfigs[theme], width });
          const path = join(outDir, name === "desktop" ? `${id}-${theme}.png` : `${id}-${name}-${theme}.png`);
          await page.locator("#shot").screenshot({ path });
          written.push(path);
        }
      }
    }
  } finally {
    await browser.close();
  }
  return written;
}

const [command, input, outDir] = process.argv.slice(2);
const cards = JSON.parse(readFileSync(input, "utf8"));
if (command === "check") {
  process.stdout.write(JSON.stringify(await check(cards)));
} else if (command === "words") {
  process.stdout.write(JSON.stringify(await words(cards)));
} else if (command === "screenshots") {
  for (const path of await screenshots(cards, outDir)) console.log(`wrote ${path}`);
} else {
  console.error("usage: cards.mjs check CARDS.json | words CARDS.json | screenshots CARDS.json DIR");
  process.exit(2);
}
