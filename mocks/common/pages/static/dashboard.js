// The live dashboard: polls /__admin/dashboard/state with the admin key and renders both
// systems side by side and the request log. Every label comes from the state (the contract's
// French labels, attached by the fake) or from the #labels block; data is written with
// textContent only, never as HTML.
(function () {
  "use strict";
  var POLL_MS = parseInt(document.currentScript.dataset.poll, 10) || 400;
  var MAX_LOG = 300;
  var labels = JSON.parse(document.getElementById("labels").textContent);
  var words = labels.words;
  var params = new URLSearchParams(location.search);
  var key = params.get("key") || sessionStorage.getItem("icarflex-admin-key") || "";
  var dealer = params.get("dealer") || "";
  var cursors = {};
  var rendered = {};
  var logEntries = [];
  var timer = null;

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function add(parent) {
    for (var i = 1; i < arguments.length; i++) if (arguments[i]) parent.appendChild(arguments[i]);
    return parent;
  }

  // -- the key ---------------------------------------------------------------------------
  function askKey(message) {
    document.getElementById("keyform").hidden = false;
    document.getElementById("keyerror").textContent = message || "";
    document.getElementById("key").focus();
  }
  document.getElementById("keyform").addEventListener("submit", function (event) {
    event.preventDefault();
    key = document.getElementById("key").value.trim();
    sessionStorage.setItem("icarflex-admin-key", key);
    document.getElementById("keyform").hidden = true;
    restart();
  });

  // -- filters ---------------------------------------------------------------------------
  var dealerSelect = document.getElementById("dealer");
  dealerSelect.options[0].textContent = labels.dealers_all;
  dealerSelect.addEventListener("change", function () {
    dealer = dealerSelect.value;
    var url = new URL(location.href);
    if (dealer) url.searchParams.set("dealer", dealer); else url.searchParams.delete("dealer");
    history.replaceState(null, "", url);
    restart();
  });
  var readsBox = document.getElementById("reads");
  readsBox.addEventListener("change", renderLog);

  function setDealers(dealers) {
    var known = Array.prototype.map.call(dealerSelect.options, function (o) { return o.value; });
    dealers.forEach(function (d) {
      if (known.indexOf(d) < 0) add(dealerSelect, new Option(d, d));
    });
    dealerSelect.value = dealer;
  }

  // -- polling ---------------------------------------------------------------------------
  function restart() {
    cursors = {}; rendered = {}; logEntries = [];
    document.getElementById("vehicles").textContent = "";
    document.getElementById("entries").textContent = "";
    if (timer) clearTimeout(timer);
    poll();
  }

  function poll() {
    timer = null;
    if (!key) { askKey(); return; }
    var query = new URLSearchParams();
    if (dealer) query.set("dealer", dealer);
    Object.keys(cursors).forEach(function (s) { query.set("after_" + s, cursors[s]); });
    fetch("dashboard/state?" + query.toString(), {headers: {"Authorization": "Bearer " + key},
                                                  cache: "no-store"})
      .then(function (reply) {
        if (reply.status === 401 || reply.status === 403) {
          sessionStorage.removeItem("icarflex-admin-key");
          key = "";
          askKey("Clé refusée (" + reply.status + ") : il faut la clé d'administration.");
          return null;
        }
        if (!reply.ok) throw new Error("HTTP " + reply.status);
        return reply.json();
      })
      .then(function (state) {
        if (!state) return;
        sessionStorage.setItem("icarflex-admin-key", key);
        render(state);
        live(true);
        timer = setTimeout(poll, POLL_MS);
      })
      .catch(function () { live(false); timer = setTimeout(poll, POLL_MS * 3); });
  }

  function live(ok) {
    var node = document.getElementById("live");
    node.className = "live " + (ok ? "on" : "off");
    node.title = ok ? "à jour : " + new Date().toLocaleTimeString("fr-FR") : "fake injoignable";
  }

  // -- rendering -------------------------------------------------------------------------
  function render(state) {
    setDealers(state.dealers);
    renderSystems(state.systems);
    Object.keys(state.systems).forEach(function (s) {
      var next = state.systems[s].next_after;
      if (state.systems[s].ok && next !== null && next !== undefined) cursors[s] = next;
    });
    renderVehicles(state.vehicles);
    if (state.log.length) {
      logEntries = logEntries.concat(state.log).slice(-MAX_LOG);
      renderLog();
    }
  }

  function renderSystems(systems) {
    var box = document.getElementById("systems");
    box.textContent = "";
    ["openflex", "icar"].forEach(function (s) {
      var sys = systems[s];
      var chip = el("span", "system " + s + (sys.ok ? "" : " down"), sys.name);
      if (sys.url) add(chip, el("small", null, " " + sys.url));
      if (!sys.ok) add(chip, el("small", "error", " — " + (sys.error || "injoignable")));
      add(box, chip);
    });
  }

  function rowKey(row) { return row.dealer + "/" + (row.id || "icar:" + row.icar_id); }

  function renderVehicles(rows) {
    var box = document.getElementById("vehicles");
    var seen = {};
    if (!rows.length) {
      box.textContent = "";
      add(box, el("p", "empty", "Aucun véhicule pour l'instant."));
      rendered = {};
    } else {
      var empty = box.querySelector(".empty");
      if (empty) empty.remove();
    }
    // newest first: the vehicle being played is at the top
    rows.slice().reverse().forEach(function (row, index) {
      var id = rowKey(row);
      seen[id] = true;
      var text = JSON.stringify(row);
      var old = rendered[id];
      if (!old || old.text !== text) {
        var card = vehicleCard(row);
        if (old) { old.node.replaceWith(card); card.classList.add("changed"); }
        rendered[id] = {node: card, text: text};
      }
      var node = rendered[id].node;
      if (box.children[index] !== node) box.insertBefore(node, box.children[index] || null);
    });
    Object.keys(rendered).forEach(function (id) {
      if (!seen[id]) { rendered[id].node.remove(); delete rendered[id]; }
    });
    document.getElementById("count").textContent = rows.length + " véhicule" + (rows.length > 1 ? "s" : "");
  }

  function statusChip(cls, status, label) {
    var chip = el("span", "status " + cls + (status ? " s-" + status : " none"), label || "—");
    chip.dataset.status = status || "";
    if (status) chip.title = status;
    return chip;
  }

  function fact(name, value, cls) {
    var dd = el("dd", cls, value === null || value === undefined || value === "" ? "—" : value);
    return [el("dt", null, name), dd];
  }

  function facts(list) {
    var dl = el("dl", "facts");
    list.forEach(function (pair) { add(dl, pair[0], pair[1]); });
    return dl;
  }

  function vehicleCard(row) {
    var card = el("article", "vehicle" + (row.mapping.holds === false || row.desync ? " broken" : ""));
    card.dataset.vehicle = row.id || "";
    card.dataset.icar = row.icar_id || "";
    card.dataset.dealer = row.dealer || "";

    var who = el("div", "identity");
    add(who, el("strong", null, [row.make, row.model].filter(Boolean).join(" ") || "Véhicule"),
        el("span", "plate", row.registration || "—"),
        el("span", "destination", row.destination_label),
        el("small", "ids", [row.id, row.vin, row.dealer].filter(Boolean).join(" · ")));

    var of = row.openflex;
    var left = el("div", "side openflex");
    add(left, el("span", "side-name", labels.systems.openflex));
    if (of) {
      add(left, statusChip("openflex-status", of.status, of.label), el("small", "id", of.status));
      var reservations = of.reservations.length ? of.reservations.map(function (r) {
        return r.label || r.kind;
      }).join(", ") : "aucune";
      add(left, facts([fact(labels.police_number, of.police_number),
                       fact("Réservations", reservations, of.reservations.length ? "reserved" : null),
                       fact(labels.published, of.published ? "oui" : "non", of.published ? "yes" : null)]));
    } else {
      add(left, statusChip("openflex-status", null, "absent d'OpenFlex"));
    }

    var map = el("div", "mapping " + (row.mapping.holds === true ? "holds" : row.mapping.holds === false ? "breaks" : "unknown"));
    add(map, el("span", "sign", row.mapping.holds === true ? "⇄" : row.mapping.holds === false ? "≠" : "?"),
        el("small", null, row.mapping.holds === true ? (row.mapping.pending || "concordent")
           : row.mapping.holds === false ? "divergent" : "non vérifiable"),
        el("small", "rule", row.mapping.rule));
    map.title = row.mapping.rule + " " + labels.mapping_rule;

    var ic = row.icar;
    var right = el("div", "side icar");
    add(right, el("span", "side-name", labels.systems.icar));
    add(right, statusChip("icar-status", ic.status, ic.status ? ic.label : "pas encore connu d'ICAR"),
        el("small", "id", ic.status || ""));
    var expected = ic.expected_label && row.mapping.holds === false ? "attendu : " + ic.expected_label : null;
    add(right, facts([fact(labels.police_number, ic.police_number),
                      fact("Facture", ic.invoice),
                      fact("Envoi à OpenFlex", ic.sync ? ic.sync.outcome_label + " (" + ic.sync.operation + ")" : null,
                           ic.sync && ic.sync.outcome !== "OK" ? "bad" : null)]));
    if (expected) add(right, el("p", "expected", expected));
    if (row.desync) {
      var desync = el("p", "expected desync", row.desync.rule + " " + row.desync.title + " : "
                      + row.desync.outcome + " (" + row.desync.operation + ")");
      desync.dataset.rule = row.desync.rule;
      add(right, desync);
    }

    add(card, who, left, map, right);
    if (row.lifeline.length) {
      var line = el("ol", "lifeline");
      line.setAttribute("aria-label", "Ligne de vie " + row.destination_label);
      row.lifeline.forEach(function (stop) {
        var li = el("li", stop.state);
        li.dataset.status = stop.status;
        add(li, el("span", "dot"), el("span", "stop", stop.label), el("small", null, stop.icar_label));
        add(line, li);
      });
      add(card, line);
    }
    return card;
  }

  function renderLog() {
    var list = document.getElementById("entries");
    list.textContent = "";
    var showReads = readsBox.checked;
    for (var i = logEntries.length - 1; i >= 0; i--) {
      var entry = logEntries[i];
      if (!showReads && !entry.write && !entry.refused) continue;
      add(list, logItem(entry));
    }
  }

  function logItem(entry) {
    var li = el("li", "entry " + (entry.refused ? "refused" : "accepted") + (entry.write ? "" : " read"));
    li.dataset.seq = entry.seq;
    li.dataset.system = entry.system;
    li.dataset.rules = entry.rules.map(function (r) { return r.id; }).join(" ");
    li.dataset.vehicle = entry.vehicle_id || "";
    var time = new Date(entry.at);
    var head = el("div", "head");
    add(head, el("time", null, time.toLocaleTimeString("fr-FR")),
        el("span", "system " + entry.system, labels.systems[entry.system]),
        el("span", "actor", entry.actor_label),
        el("span", "code-status", entry.status),
        el("span", "verdict", entry.refused ? words.refused + (entry.code_title ? " · " + entry.code_title : "")
                                             : words.accepted));
    var call = el("div", "call", entry.call);
    add(call, el("small", null, " " + entry.method + " " + entry.path));
    add(li, head, call);
    if (entry.refused) {
      entry.rules.forEach(function (rule) {
        var r = el("div", "rule");
        add(r, el("strong", null, rule.id), el("span", null, " " + rule.title), el("q", null, rule.guide));
        add(li, r);
      });
      var codes = [entry.code, entry.upstream_code].filter(Boolean).join(" ← ");
      var details = [codes, entry.fields.length ? "champ " + entry.fields.join(", ") : ""].filter(Boolean);
      if (details.length) add(li, el("small", "ids", details.join(" · ")));
    }
    return li;
  }

  if (params.get("key")) {  // keep the key for this tab, not in the address bar
    sessionStorage.setItem("icarflex-admin-key", params.get("key"));
    params.delete("key");
    var clean = new URL(location.href);
    clean.search = params.toString();
    history.replaceState(null, "", clean);
  }
  poll();
})();
