// Draws each chart of the dashboard from the figure JSON beside it (built in Python,
// bot/dashboard/charts.py), in the page's theme: `theme=dark` or `theme=light` from
// the address (the Teams tab passes Teams' theme), else the system's.
"use strict";

(function () {
  const root = document.documentElement;
  const darkQuery = window.matchMedia("(prefers-color-scheme: dark)");

  function dark() {
    const theme = root.dataset.theme;
    return theme === "dark" || (theme === "auto" && darkQuery.matches);
  }

  function colours() {
    return dark()
      ? { text: "#e6e6e6", grid: "#3d3d3d", line: "#6e6e6e", hover: "#2b2b2b" }
      : { text: "#242424", grid: "#e0e0e0", line: "#8a8886", hover: "#ffffff" };
  }

  function themed(layout) {
    const c = colours();
    const out = Object.assign({}, layout, {
      font: Object.assign({}, layout.font, { color: c.text }),
      hoverlabel: { bgcolor: c.hover, font: { color: c.text } },
      autosize: true,
    });
    for (const key of Object.keys(out)) {
      if (/^[xy]axis\d*$/.test(key)) {
        out[key] = Object.assign({}, out[key], {
          gridcolor: c.grid, linecolor: c.line, zerolinecolor: c.line,
        });
      }
    }
    for (const key of ["xaxis", "yaxis"]) {
      if (!out[key]) out[key] = { gridcolor: c.grid, linecolor: c.line, zerolinecolor: c.line };
    }
    return out;
  }

  // At Teams' narrow widths a school's full name would leave the bars no room: the
  // axis shows it cut short (the hover label and the table keep it whole).
  const NARROW = 520;
  const LABEL = 16;

  function shortLabels(element, figure, layout) {
    if (element.clientWidth >= NARROW) return layout;
    for (const [key, field] of [["xaxis", "x"], ["yaxis", "y"]]) {
      const axis = layout[key];
      if (!axis || axis.type !== "category") continue;
      const values = [];
      for (const trace of figure.data) {
        for (const value of trace[field] || []) {
          if (typeof value === "string" && !values.includes(value)) values.push(value);
        }
      }
      if (!values.some((v) => v.length > LABEL)) continue;
      layout[key] = Object.assign({}, axis, {
        tickmode: "array",
        tickvals: values,
        ticktext: values.map((v) => (v.length > LABEL ? v.slice(0, LABEL - 1) + "…" : v)),
      });
      // Schools across the top (the QA grid): upright, so that they do not overlap.
      if (key === "xaxis") layout[key].tickangle = -90;
    }
    return layout;
  }

  const config = { responsive: true, displayModeBar: false, displaylogo: false };
  const plots = [];

  function draw(element) {
    const source = document.getElementById(element.dataset.figure);
    if (!source) return;
    const figure = JSON.parse(source.textContent);
    element.dataset.drawn = "false";
    const layout = shortLabels(element, figure, themed(figure.layout || {}));
    window.Plotly.newPlot(element, figure.data, layout, config).then(
      function () { element.dataset.drawn = "true"; }
    );
    plots.push({ element: element, figure: figure });
  }

  function redrawAll() {
    for (const plot of plots) {
      const layout = shortLabels(plot.element, plot.figure, themed(plot.figure.layout || {}));
      window.Plotly.react(plot.element, plot.figure.data, layout, config);
    }
  }

  function start() {
    document.querySelectorAll(".plot[data-figure]").forEach(draw);
    darkQuery.addEventListener("change", function () {
      if (root.dataset.theme === "auto") redrawAll();
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
