/**
 * The review page's script, plain JavaScript embedded in the page (no modules, nothing fetched
 * but the page's own API). It claims a record, shows it, and sends each decision with an id of
 * its own: a decision whose answer was lost is sent again with the same id, so the campaign
 * applies it once. Refusals (not pending, out of date) are shown with the server's message.
 * While a record is shown its claim is renewed at half its lease, so a record returns to the pool
 * only when its reviewer's page is closed or cut off.
 * Use it only through `reviewPage`.
 */
export const REVIEW_SCRIPT = String.raw`
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("review-config").textContent);
  var S = config.strings;
  var $ = function (id) { return document.getElementById(id); };
  var fill = function (text, values) { return text.replace(/\{(\w+)\}/g, function (_, k) { return values[k] === undefined ? "" : String(values[k]); }); };
  var both = function (key, values) { var s = S[key] || S.REVIEW_FAILED; return fill(s.en, values || {}) + " · " + fill(s.zh, values || {}); };
  var langOf = function (text) { return /[\u3400-\u9fff]/.test(text) ? "zh" : "en"; };
  var fmt = function (v) { return v === null || v === undefined ? "–" : (Math.round(v * 10000) / 10000).toString(); };
  var newId = function () {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
    return "d-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 12);
  };

  var params = new URLSearchParams(location.search);
  var pinned = config.campaign || params.get("campaign");
  var st = { campaign: pinned, current: null, pending: null, editing: false, timer: null, stale: false, nothingLeft: false };
  var reviewerInput = $("reviewer");
  reviewerInput.value = params.get("reviewer") || localStorage.getItem("winnow-reviewer") || config.reviewer || "";

  function reviewer() { return reviewerInput.value.trim(); }

  function say(kind, text, extra) {
    var box = $("message");
    box.className = "show " + kind;
    box.setAttribute("data-kind", kind);
    box.setAttribute("data-code", (extra && extra.code) || "");
    $("message-text").textContent = text;
    $("retry").classList.toggle("hidden", kind !== "offline");
    $("reload").classList.toggle("hidden", kind !== "stale");
  }

  function showProgress(state) {
    if (!state) return;
    $("round").textContent = String(state.round);
    var text = both("progress", state);
    var then = S["then_" + state.on_deadline] || S.then_commit;
    if (state.deadline) text += " · " + both("deadline", { deadline: state.deadline.replace("T", " ").slice(0, 19) + " UTC", then_en: then.en, then_zh: then.zh });
    $("progress").textContent = text;
    $("progress").setAttribute("data-decided", String(state.decided));
  }

  function later(run, ms) { clearTimeout(st.timer); st.timer = setTimeout(run, ms); }

  function renewIn(until) {
    var left = until ? Date.parse(until) - Date.now() : 60000;
    return Math.max(1000, Math.min(60000, left / 2));
  }

  function idle(key) {
    st.current = null;
    $("record").classList.add("hidden");
    $("idle").classList.remove("hidden");
    $("idle").textContent = both(key);
  }

  function call(method, path, body) {
    return fetch(path, { method: method, headers: body ? { "content-type": "application/json" } : {}, body: body ? JSON.stringify(body) : undefined, cache: "no-store" })
      .then(function (res) {
        return res.json().catch(function () { return {}; }).then(function (json) { return { status: res.status, body: json }; });
      });
  }

  function refused(answer) {
    var error = (answer.body && answer.body.error) || { code: "REVIEW_FAILED", message: "HTTP " + answer.status };
    var stale = error.code === "REVIEW_STALE" || error.code === "REVIEW_CLOSED";
    say(stale ? "stale" : "error", both(error.code in S ? error.code : "REVIEW_FAILED") + " " + error.message, { code: error.code });
    return { stale: stale, code: error.code };
  }

  function find() {
    if (st.stale) return;
    var q = st.campaign ? "?campaign=" + encodeURIComponent(st.campaign) : "";
    call("GET", "/api/reviews" + q).then(function (answer) {
      if (answer.status !== 200) { var r = refused(answer); if (r.stale) { st.stale = true; idle("REVIEW_STALE"); return; } return later(find, 3000); }
      var open = answer.body.reviews.filter(function (r) { return r.state.status === "open"; });
      var mine = open.filter(function (r) { return r.campaign === st.campaign; })[0] || (pinned ? undefined : open[0]);
      if (!mine) { idle("waiting"); if (answer.body.reviews[0]) showProgress(answer.body.reviews[0].state); return later(find, 3000); }
      st.campaign = mine.campaign;
      $("campaign").textContent = st.campaign;
      var s = mine.state;
      // Waiting costs nothing: a claim is an update the campaign records, so ask again only when a record is free.
      if (st.nothingLeft && s.sampled - s.decided - s.claimed <= 0) { showProgress(s); return later(find, 2000); }
      claim();
    }, function () { say("offline", both("offline")); later(find, 3000); });
  }

  function claim() {
    if (st.stale || st.pending) return;
    if (!reviewer()) { say("error", both("needReviewer")); reviewerInput.focus(); return; }
    call("POST", "/api/claim", { campaign: st.campaign, reviewer: reviewer() }).then(function (answer) {
      if (answer.status !== 200) {
        var r = refused(answer);
        if (r.stale) { st.stale = true; idle("REVIEW_STALE"); return; }
        return later(find, 3000);
      }
      showProgress(answer.body.state);
      st.nothingLeft = !answer.body.item;
      if (!answer.body.item) { idle("nothingLeft"); return later(find, 2000); }
      show(answer.body);
      later(claim, renewIn(answer.body.lease_until));
    }, function () { say("offline", both("offline")); later(claim, 3000); });
  }

  function turn(message) {
    var div = document.createElement("div");
    div.className = "turn " + message.role;
    div.setAttribute("lang", langOf(message.content));
    var role = document.createElement("span");
    role.className = "role";
    role.textContent = message.role;
    div.appendChild(role);
    div.appendChild(document.createTextNode(message.content));
    return div;
  }

  function show(claimed) {
    var item = claimed.item;
    var same = st.current && st.current.item.id === item.id && st.current.round === claimed.round;
    st.current = claimed;
    $("idle").classList.add("hidden");
    $("record").classList.remove("hidden");
    $("record").setAttribute("data-item-id", item.id);
    $("record").setAttribute("data-round", String(claimed.round));
    $("record").setAttribute("data-kept", String(item.kept));
    if (same) return;
    setEditing(false);
    var prompt = $("prompt");
    prompt.textContent = "";
    item.messages.forEach(function (m) { prompt.appendChild(turn(m)); });
    $("response").textContent = item.response;
    $("response").setAttribute("lang", langOf(item.response));
    $("rejected-block").classList.toggle("hidden", item.rejected_response === undefined);
    $("rejected-response").textContent = item.rejected_response || "";
    var badge = $("kept-badge");
    badge.className = "badge " + (item.kept ? "kept" : "not-kept");
    badge.textContent = both(item.kept ? "kept" : "notKept");
    $("agreement-note").classList.toggle("hidden", item.kept);
    $("edit").disabled = !item.kept;
    var table = $("scores");
    table.textContent = "";
    var row = function (name, value) {
      var tr = document.createElement("tr");
      var th = document.createElement("th"); th.textContent = name;
      var td = document.createElement("td"); td.textContent = value;
      tr.appendChild(th); tr.appendChild(td); table.appendChild(tr);
    };
    row(both("combined"), fmt(item.score));
    Object.keys(item.scores).forEach(function (name) { row(name, fmt(item.scores[name])); });
    row(both("passed"), item.passed ? "✓" : "✗");
    if (item.failed && item.failed.length) row(both("failedFilters"), item.failed.join(", "));
    $("record-meta").textContent = "id " + item.id.slice(0, 16) + "… · prompt " + item.prompt_id + " · shard " + item.shard +
      (item.finish ? " · finish " + item.finish : "") + (item.tokens !== undefined ? " · " + item.tokens + " tokens" : "") +
      (claimed.lease_until ? " · " + both("held", { until: claimed.lease_until.replace("T", " ").slice(0, 19) + " UTC" }) : "");
  }

  function setEditing(on) {
    st.editing = on;
    $("edit-text").classList.toggle("hidden", !on);
    $("response").classList.toggle("hidden", on);
    $("actions").classList.toggle("hidden", on);
    $("edit-actions").classList.toggle("hidden", !on);
    if (on) { $("edit-text").value = st.current.item.response; $("edit-text").focus(); }
  }

  function decide(action, text) {
    if (!st.current || st.pending || st.stale) return;
    if (!reviewer()) { say("error", both("needReviewer")); return; }
    var request = { campaign: st.campaign, decision_id: newId(), round: st.current.round, item: st.current.item.id, reviewer: reviewer(), action: action };
    if (action === "edit") request.text = text;
    st.pending = request;
    send();
  }

  var DONE = { accept: "accepted", reject: "rejected", edit: "edited", skip: "skipped" };

  function send() {
    var request = st.pending;
    call("POST", "/api/decide", request).then(function (answer) {
      st.pending = null;
      if (answer.status === 200) {
        showProgress(answer.body.state);
        say("ok", answer.body.repeated ? both("repeated") : both(DONE[request.action]), { code: answer.body.repeated ? "REPEATED" : "APPLIED" });
        $("message").setAttribute("data-decision", request.decision_id);
        setEditing(false);
        return claim();
      }
      var r = refused(answer);
      if (r.stale) { st.stale = true; idle("REVIEW_STALE"); return; }
      later(claim, 1500);
    }, function () { say("offline", both("offline")); });
  }

  $("accept").addEventListener("click", function () { decide("accept"); });
  $("reject").addEventListener("click", function () { decide("reject"); });
  $("skip").addEventListener("click", function () { decide("skip"); });
  function startEdit() { if (st.current && !st.pending && st.current.item.kept) setEditing(true); }
  $("edit").addEventListener("click", startEdit);
  $("save").addEventListener("click", function () { decide("edit", $("edit-text").value); });
  $("cancel").addEventListener("click", function () { setEditing(false); });
  $("retry").addEventListener("click", function () { if (st.pending) send(); else find(); });
  $("reload").addEventListener("click", function () { location.reload(); });
  reviewerInput.addEventListener("change", function () { localStorage.setItem("winnow-reviewer", reviewer()); if (!st.pending) claim(); });

  document.addEventListener("keydown", function (event) {
    if (event.target === reviewerInput) return;
    if (st.editing) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); decide("edit", $("edit-text").value); }
      else if (event.key === "Escape") { event.preventDefault(); setEditing(false); }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "Enter" && st.pending) { event.preventDefault(); send(); return; }
    var action = { a: "accept", r: "reject", s: "skip" }[event.key];
    if (action) { event.preventDefault(); decide(action); }
    else if (event.key === "e") { event.preventDefault(); startEdit(); }
  });

  if (reviewer()) localStorage.setItem("winnow-reviewer", reviewer());
  find();
})();
`
