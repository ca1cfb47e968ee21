// The dashboard tab: ask Teams for an SSO token, exchange it at /dashboard/sso for a
// signed dashboard link, and go there (in Teams' dark theme, the dark dashboard; in a
// team tab configured for one school, that school's view).
"use strict";
(function () {
  var OUTSIDE_TEAMS = "This page opens inside Microsoft Teams.";

  function fail(reason) {
    document.getElementById("status").hidden = true;
    document.getElementById("reason").textContent = reason;
    document.getElementById("failure").hidden = false;
  }

  if (typeof microsoftTeams === "undefined") {
    fail("Teams' library did not load.");
    return;
  }
  var school = new URLSearchParams(window.location.search).get("school");
  var theme = "default";
  // Outside Teams, initialize() never answers: say so rather than spin.
  var waiting = window.setTimeout(function () { fail(OUTSIDE_TEAMS); }, 15000);

  microsoftTeams.app.initialize()
    .then(function () { return microsoftTeams.app.getContext(); })
    .then(function (context) {
      theme = (context && context.app && context.app.theme) || "default";
      if (theme !== "default") { document.body.classList.add("dark"); }
      return microsoftTeams.authentication.getAuthToken();
    })
    .then(function (token) {
      var body = {};
      if (school && /^[0-9]+$/.test(school)) { body.school = Number(school); }
      return fetch("/dashboard/sso", {
        method: "POST",
        headers: { "Authorization": "Bearer " + token, "Content-Type": "application/json" },
        body: JSON.stringify(body),
        credentials: "omit",
        cache: "no-store"
      });
    })
    .then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (answer) {
        if (!response.ok || !answer.url) {
          throw new Error(answer.message || "Waypoint could not sign you in (" + response.status + ").");
        }
        var url = new URL(answer.url, window.location.href);
        if (theme === "dark" || theme === "contrast") { url.searchParams.set("theme", "dark"); }
        window.clearTimeout(waiting);
        window.location.replace(url.toString());
      });
    })
    .catch(function (error) {
      window.clearTimeout(waiting);
      var reason = error && error.message ? error.message : String(error);
      // Opened in a browser rather than in Teams: teams-js finds no host to talk to.
      fail(/no parent window/i.test(reason) ? OUTSIDE_TEAMS : reason);
    });
})();
