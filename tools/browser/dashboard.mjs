// Opens dashboard pages in Debian's Chromium and reports, for each, whether every
// chart drew a plotly SVG with data, any console error or page error, and (given a
// path) a full-page screenshot. Used by tests/test_dashboard_browser.py.
//
//   node tools/browser/dashboard.mjs '[{"url": "...", "width": 1280, "dark": false, "out": "x.png"}]'
//
// Prints one JSON object per page, in a JSON list, on stdout.
import { openBrowser } from "./chromium.mjs";

const pages = JSON.parse(process.argv[2]);
const results = [];

for (const spec of pages) {
  const browser = await openBrowser({ viewport: { width: spec.width, height: 900 } });
  const errors = [];
  try {
    const page = await browser.context.newPage();
    await page.emulateMedia({ colorScheme: spec.dark ? "dark" : "light" });
    page.on("console", (message) => {
      if (message.type() === "error" || message.type() === "warning") {
        errors.push(`${message.type()}: ${message.text()}`);
      }
    });
    // Says which element a blocked style or script was on (the console does not).
    await page.addInitScript(() => {
      document.addEventListener("securitypolicyviolation", (event) => {
        const where = event.target && event.target.outerHTML ? event.target.outerHTML.slice(0, 160) : "";
        console.error(`CSP ${event.violatedDirective}: "${event.sample}" on ${where}`);
      });
    });
    page.on("pageerror", (error) => errors.push(`page error: ${error.message}`));
    const response = await page.goto(spec.url, { waitUntil: "load" });
    const status = response ? response.status() : 0;
    let charts = [];
    if (status === 200) {
      await page
        .waitForFunction(
          () => [...document.querySelectorAll(".plot")].every((p) => p.dataset.drawn === "true"),
          null,
          { timeout: 20000 },
        )
        .catch(() => errors.push("timeout: not every chart was drawn"));
      charts = await page.evaluate(() =>
        [...document.querySelectorAll(".plot")].map((plot) => {
          const svg = plot.querySelector("svg.main-svg");
          const marks = plot.querySelectorAll(
            ".bars .point path, .scatterlayer .point, .scatterlayer .js-line, .heatmaplayer image",
          ).length;
          const points = (plot.data || []).reduce(
            (n, trace) => n + (trace.x ? trace.x.length : 0) + (trace.z ? trace.z.length : 0),
            0,
          );
          return { id: plot.id, svg: Boolean(svg), marks, points, height: plot.clientHeight };
        }),
      );
    }
    const background = status === 200
      ? await page.evaluate(() => getComputedStyle(document.body).backgroundColor)
      : null;
    const overflow = status === 200
      ? await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
      : null;
    if (spec.out) {
      await page.screenshot({ path: spec.out, fullPage: true });
    }
    results.push({ url: spec.url, status, charts, errors, background, overflow });
  } finally {
    await browser.close();
  }
}
console.log(JSON.stringify(results));
