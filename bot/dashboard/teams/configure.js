// The team tab's configuration: the whole trust or one school. The schools offered are
// those the person configuring reaches, read with their SSO token; each person who
// opens the tab still sees only what their own roles allow.
"use strict";
(function () {
  var status = document.getElementById("status");
  var schools = {};

  function say(text) { status.textContent = text; }

  function chosen() {
    var picked = document.querySelector("input[name=scope]:checked");
    return picked ? picked.value : "";
  }

  function addSchool(school) {
    var label = document.createElement("label");
    var input = document.createElement("input");
    input.type = "radio";
    input.name = "scope";
    input.value = String(school.id);
    label.appendChild(input);
    label.appendChild(document.createTextNode(" " + school.name));
    document.getElementById("schools").appendChild(label);
    schools[String(school.id)] = school.name;
  }

  if (typeof microsoftTeams === "undefined") {
    say("Teams' library did not load: this page works inside Microsoft Teams.");
    return;
  }

  microsoftTeams.app.initialize().then(function () {
    var config = microsoftTeams.pages.config;
    config.registerOnSaveHandler(function (saveEvent) {
      var school = chosen();
      var content = window.location.origin + "/dashboard/tab" + (school ? "?school=" + school : "");
      var name = school ? (schools[school] || "Dashboard").slice(0, 25) : "Dashboard";
      config.setConfig({
        contentUrl: content,
        websiteUrl: content,
        entityId: "waypoint-dashboard-" + (school || "trust"),
        suggestedDisplayName: name
      }).then(function () { saveEvent.notifySuccess(); })
        .catch(function (error) { saveEvent.notifyFailure(String(error)); });
    });
    document.getElementById("choice").addEventListener("change", function () {
      config.setValidityState(true);
    });
    // The whole trust is a valid choice from the start.
    config.setValidityState(true);
    return microsoftTeams.authentication.getAuthToken().then(function (token) {
      return fetch("/dashboard/sso/schools", {
        headers: { "Authorization": "Bearer " + token },
        credentials: "omit",
        cache: "no-store"
      });
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (answer) {
        if (!response.ok) {
          throw new Error(answer.message || "Waypoint could not read your schools (" + response.status + ").");
        }
        (answer.schools || []).forEach(addSchool);
        say(answer.schools && answer.schools.length
          ? "Or choose one school."
          : "You can add the whole trust's dashboard.");
      });
    });
  }).catch(function (error) {
    var reason = error && error.message ? error.message : String(error);
    if (/no parent window/i.test(reason)) {
      say("This page opens inside Microsoft Teams, when a team adds the Waypoint dashboard tab.");
      return;
    }
    say(reason + " The whole trust's dashboard can still be added.");
  });
})();
