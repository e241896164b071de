/**
 * The sample browser's script, plain JavaScript embedded in `index.html` (no modules, no network):
 * it reads the report's JSON from the page, and draws the prompts that match the search box, the
 * round, and the scorer range, each with its samples side by side and the kept one marked.
 * Use it only through `reportPage`.
 */
export const BROWSER_SCRIPT = String.raw`
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var $ = function (id) { return document.getElementById(id); };
  var el = function (tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { if (attrs[k] !== undefined && attrs[k] !== null) node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  };
  var fmt = function (v) { return v === null || v === undefined ? "–" : (Math.round(v * 10000) / 10000).toString(); };
  var valueOf = function (sample, scorer) { return scorer === "score" ? sample.score : (sample.scores[scorer] === undefined ? null : sample.scores[scorer]); };

  var roundSelect = $("round"), scorerSelect = $("scorer");
  data.browser.rounds.forEach(function (r) { roundSelect.appendChild(el("option", { value: r.label }, r.label)); });
  ["score"].concat(data.scorers).forEach(function (s) { scorerSelect.appendChild(el("option", { value: s }, s === "score" ? "combined score" : s)); });

  function matches(prompt, sample, query, scorer, lo, hi, keptOnly) {
    if (keptOnly && !sample.kept) return false;
    var v = valueOf(sample, scorer);
    if ((lo !== null || hi !== null) && (v === null || (lo !== null && v < lo) || (hi !== null && v > hi))) return false;
    if (!query) return true;
    return prompt.prompt.toLowerCase().indexOf(query) >= 0 || prompt.prompt_id.toLowerCase().indexOf(query) >= 0 || sample.text.toLowerCase().indexOf(query) >= 0;
  }

  function sampleCard(sample) {
    var card = el("article", { "class": "sample" + (sample.kept ? " kept" : "") + (sample.pair === "rejected" ? " rejected" : ""), "data-kept": sample.kept ? "true" : "false" });
    var head = el("header");
    head.appendChild(el("span", { "class": "idx" }, "#" + sample.index));
    if (sample.kept) head.appendChild(el("span", { "class": "badge kept-badge", title: "kept by selection" }, sample.pair === "chosen" ? "chosen 选中" : "kept 保留"));
    if (sample.pair === "rejected") head.appendChild(el("span", { "class": "badge" }, "rejected 落选"));
    if (!sample.passed) head.appendChild(el("span", { "class": "badge fail" }, "failed a filter"));
    if (sample.finish === "length") head.appendChild(el("span", { "class": "badge" }, "cut at max tokens"));
    card.appendChild(head);
    card.appendChild(el("div", { "class": "text", lang: sample.lang }, sample.text));
    var table = el("table", { "class": "scores" });
    var row = function (name, v) { var tr = el("tr"); tr.appendChild(el("th", {}, name)); tr.appendChild(el("td", {}, fmt(v))); table.appendChild(tr); };
    row("combined", sample.score);
    data.scorers.forEach(function (s) { row(s, sample.scores[s] === undefined ? null : sample.scores[s]); });
    if (sample.tokens !== undefined) row("tokens", sample.tokens);
    card.appendChild(table);
    return card;
  }

  function draw() {
    var query = $("search").value.trim().toLowerCase();
    var round = roundSelect.value, scorer = scorerSelect.value;
    var lo = $("min").value === "" ? null : Number($("min").value);
    var hi = $("max").value === "" ? null : Number($("max").value);
    var keptOnly = $("kept-only").checked;
    var list = $("prompts");
    list.textContent = "";
    var promptsShown = 0, samplesShown = 0;
    data.browser.prompts.forEach(function (prompt) {
      if (round && prompt.round !== round) return;
      var samples = prompt.samples.filter(function (s) { return matches(prompt, s, query, scorer, lo, hi, keptOnly); });
      if (samples.length === 0) return;
      promptsShown++;
      samplesShown += samples.length;
      var section = el("section", { "class": "prompt", "data-prompt-id": prompt.prompt_id });
      var head = el("header");
      head.appendChild(el("span", { "class": "round" }, prompt.round));
      head.appendChild(el("code", {}, prompt.prompt_id));
      head.appendChild(el("span", { "class": "count" }, samples.length + " / " + prompt.samples.length + " samples" + (prompt.all_samples ? "" : " (kept records only)")));
      section.appendChild(head);
      section.appendChild(el("p", { "class": "prompt-text", lang: prompt.lang }, prompt.prompt || "(prompt text not recorded: no committed record names this prompt)"));
      var grid = el("div", { "class": "samples" });
      samples.forEach(function (s) { grid.appendChild(sampleCard(s)); });
      section.appendChild(grid);
      list.appendChild(section);
    });
    $("shown").textContent = promptsShown + " prompts, " + samplesShown + " samples shown · 显示 " + promptsShown + " 个提示";
  }

  ["search", "min", "max"].forEach(function (id) { $(id).addEventListener("input", draw); });
  ["round", "scorer", "kept-only"].forEach(function (id) { $(id).addEventListener("change", draw); });
  draw();
})();
`
