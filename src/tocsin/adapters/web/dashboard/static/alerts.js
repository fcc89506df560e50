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
  // Present (with the session's CSRF token) only for users who may act: each row gets the
  // page's buttons, built the same way as the server-rendered ones (templates/alerts.html).
  var csrf = body.getAttribute("data-csrf");
  var hours = (body.getAttribute("data-hours") || "").split(",").filter(Boolean);

  function form(group, act, label, className) {
    var node = document.createElement("form");
    node.method = "post";
    node.action = "/alert-groups/" + encodeURIComponent(String(group.id)) + "/" + act;
    var token = document.createElement("input");
    token.type = "hidden";
    token.name = "csrf";
    token.value = csrf;
    node.appendChild(token);
    var button = document.createElement("button");
    button.type = "submit";
    button.className = className;
    button.textContent = label;
    node.appendChild(button);
    return node;
  }

  function actions(group) {
    var td = document.createElement("td");
    var rowOf = document.createElement("div");
    rowOf.className = "button-row alert-actions";
    if (group.status === "firing") {
      var ack = form(group, "ack", "Acknowledge", "button button-primary");
      ack.lastChild.setAttribute("aria-label", "Acknowledge alert group #" + group.id);
      rowOf.appendChild(ack);
    }
    if (group.status !== "silenced") {
      var silence = form(group, "silence", "Silence", "button");
      silence.className = "silence";
      silence.lastChild.setAttribute("aria-label", "Silence alert group #" + group.id);
      var select = document.createElement("select");
      select.name = "hours";
      select.setAttribute("aria-label", "How long to silence alert group #" + group.id);
      hours.forEach(function (h) {
        var option = document.createElement("option");
        option.value = h;
        option.textContent = h + "h";
        select.appendChild(option);
      });
      silence.insertBefore(select, silence.lastChild);
      rowOf.appendChild(silence);
    }
    if (group.incident) {
      var open = document.createElement("a");
      open.className = "button";
      open.href = "/incidents/" + encodeURIComponent(String(group.incident).replace(/^INC-/, ""));
      open.textContent = "Open " + group.incident;
      rowOf.appendChild(open);
    } else {
      var declare = form(group, "declare", "Declare incident", "button button-danger");
      declare.lastChild.setAttribute("aria-label", "Declare an incident for alert group #" + group.id);
      rowOf.appendChild(declare);
    }
    td.appendChild(rowOf);
    return td;
  }

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
    if (csrf) {
      tr.appendChild(actions(group));
    }
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
