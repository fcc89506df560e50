// The live alert groups page: server-sent events from /alert-groups/events replace the rows.
// Everything sent is inserted with textContent, never as HTML.
(function () {
  "use strict";
  var body = document.getElementById("alert-groups");
  if (!body || !window.EventSource) {
    return;
  }
  var liveState = document.getElementById("live-state");
  var count = document.getElementById("alert-count");

  function cell(text) {
    var node = document.createElement("td");
    node.textContent = text;
    return node;
  }

  function row(group) {
    var tr = document.createElement("tr");
    tr.appendChild(cell("#" + group.id));
    var status = cell("");
    var badge = document.createElement("span");
    badge.className = "badge status-" + String(group.status).replace(/[^a-z]/g, "");
    badge.textContent = group.status;
    status.appendChild(badge);
    tr.appendChild(status);
    tr.appendChild(cell(group.title));
    tr.appendChild(cell(group.firing + " of " + group.alerts));
    var incident = cell(group.incident ? "" : "none");
    if (group.incident) {
      var link = document.createElement("a");
      link.href = "/incidents/" + encodeURIComponent(String(group.incident).replace(/^INC-/, ""));
      link.textContent = group.incident;
      incident.appendChild(link);
    }
    tr.appendChild(incident);
    return tr;
  }

  var source = new EventSource("/alert-groups/events");
  source.addEventListener("open", function () {
    if (liveState) {
      liveState.hidden = false;
    }
  });
  source.addEventListener("error", function () {
    if (liveState) {
      liveState.hidden = true;
    }
  });
  source.addEventListener("groups", function (event) {
    var groups = JSON.parse(event.data);
    while (body.firstChild) {
      body.removeChild(body.firstChild);
    }
    groups.forEach(function (group) {
      body.appendChild(row(group));
    });
    if (count) {
      count.textContent = groups.length + " firing";
    }
  });
})();
