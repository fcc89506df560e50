// The live timeline of an incident page: server-sent events from /incidents/{n}/events.
// Everything user-written is inserted with textContent, never as HTML.
(function () {
  "use strict";
  var list = document.getElementById("timeline");
  if (!list || !window.EventSource) {
    return;
  }
  var number = list.getAttribute("data-incident");
  var url = "/incidents/" + encodeURIComponent(number) + "/events?after=" +
    encodeURIComponent(list.getAttribute("data-last-id")) + "&version=" +
    encodeURIComponent(list.getAttribute("data-version"));
  var liveState = document.getElementById("live-state");

  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }

  function when(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) {
      return iso;
    }
    return d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()) +
      " " + pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + " UTC";
  }

  function span(className, text) {
    var node = document.createElement("span");
    node.className = className;
    node.textContent = text;
    return node;
  }

  function addEntry(entry) {
    var item = document.createElement("li");
    item.className = "entry is-new kind-" + String(entry.kind).replace(/[^a-z]/g, "");
    var head = span("entry-head", "");
    var time = document.createElement("time");
    time.setAttribute("datetime", entry.at);
    time.textContent = when(entry.at);
    head.appendChild(time);
    head.appendChild(document.createTextNode(" · "));
    head.appendChild(span("who", entry.actor.display_name || entry.actor.user_id));
    item.appendChild(head);
    item.appendChild(span("what", entry.text));
    list.appendChild(item);
  }

  function setBadge(id, prefix, value, text) {
    var badge = document.getElementById(id);
    if (!badge) {
      return;
    }
    badge.className = badge.className.replace(new RegExp("\\b" + prefix + "-\\S+", "g"), "")
      .trim() + " " + prefix + "-" + value;
    badge.textContent = text;
  }

  function updateIncident(data) {
    setBadge("incident-status", "status", data.status, data.status);
    setBadge("incident-severity", "sev", data.severity, data.severity + " · " + data.severity_label);
    var commander = document.getElementById("incident-commander");
    if (commander) {
      commander.textContent = data.commander || "nobody";
    }
  }

  var source = new EventSource(url);
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
  source.addEventListener("entry", function (event) {
    addEntry(JSON.parse(event.data));
  });
  source.addEventListener("incident", function (event) {
    updateIncident(JSON.parse(event.data));
  });
})();
