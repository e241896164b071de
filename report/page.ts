import type { ReportChart } from "./charts.js"
import type { ReportData } from "./model.js"
import { BROWSER_SCRIPT } from "./pageScript.js"

/** Escapes text for HTML content and attribute values. */
export const escapeHtml = (text: string): string =>
  text.replace(/[<>&"']/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&#39;" })[c]!)

/** JSON safe inside `<script type="application/json">`: no `<` (so no `</script>`), no line separators. */
export const scriptJson = (value: unknown): string =>
  JSON.stringify(value).replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029")

const FONTS = `system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Helvetica Neue", Arial, "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", sans-serif`
const CJK_FONTS = `"PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "Noto Sans SC", sans-serif`

const STYLE = `
body { font-family: ${FONTS}; margin: 0 auto; max-width: 1280px; padding: 16px 24px 64px; color: #222; line-height: 1.45; }
:lang(zh), :lang(ja) { font-family: ${CJK_FONTS}; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; } h2 { margin-top: 2em; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
nav a { margin-right: 1em; } .meta { color: #666; font-size: 0.9em; }
.notes { background: #fff8e1; border: 1px solid #f0d98c; padding: 8px 14px; border-radius: 6px; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(540px, 1fr)); gap: 16px; margin-top: 12px; } .charts figure { margin: 0; } .charts img { width: 100%; height: auto; border: 1px solid #eee; }
table.lineage, table.rounds { border-collapse: collapse; font-size: 0.85em; } table.lineage td, table.lineage th, table.rounds td, table.rounds th { border: 1px solid #ddd; padding: 3px 6px; text-align: left; }
.controls { display: flex; flex-wrap: wrap; gap: 10px; align-items: center; position: sticky; top: 0; background: #fafafa; padding: 8px; border: 1px solid #ddd; z-index: 1; }
.controls input[type=number] { width: 6em; } .controls input[type=search] { width: 18em; }
.prompt { border: 1px solid #ddd; border-radius: 6px; margin: 12px 0; padding: 8px 12px; }
.prompt > header { display: flex; gap: 10px; align-items: baseline; } .prompt .round { font-weight: bold; } .prompt .count { color: #666; font-size: 0.85em; }
.prompt-text { font-size: 1.05em; white-space: pre-wrap; }
.samples { display: grid; grid-template-columns: repeat(auto-fill, minmax(260px, 1fr)); gap: 10px; }
.sample { border: 1px solid #ccc; border-radius: 6px; padding: 6px 8px; background: #fff; }
.sample.kept { border: 2px solid #2e7d32; background: #f1f8e9; } .sample.rejected { background: #fbe9e7; }
.sample header { display: flex; gap: 6px; align-items: center; font-size: 0.85em; }
.badge { border-radius: 4px; padding: 0 5px; background: #eee; } .kept-badge { background: #2e7d32; color: white; } .fail { background: #ffcdd2; }
.sample .text { white-space: pre-wrap; word-break: break-word; margin: 6px 0; }
table.scores { font-size: 0.8em; color: #444; } table.scores th { text-align: left; font-weight: normal; padding-right: 8px; }
`

const figure = (chart: ReportChart): string =>
  `<figure><img src="charts/${escapeHtml(chart.file)}" alt="${escapeHtml(chart.title)}"></figure>`

const roundsTable = (data: ReportData): string => {
  const rows = data.rounds.map((r) => {
    const s = r.stats
    const full = r.source !== "records"
    return `<tr><td>${escapeHtml(r.label)}</td><td>${escapeHtml(r.version ?? "–")}</td><td>${s.samples}</td><td>${s.accepted}</td><td>${s.samples > 0 ? `${(s.acceptance_rate * 100).toFixed(1)}%` : "–"}</td><td>${full ? s.combined.all?.mean.toFixed(4) ?? "–" : "–"}</td><td>${s.combined.accepted?.mean.toFixed(4) ?? "–"}</td><td>${full ? s.combined.best_of_n_gain?.toFixed(4) ?? "–" : "–"}</td><td>${r.pass_at_1 === undefined ? "–" : r.pass_at_1.toFixed(3)}</td><td>${escapeHtml(r.source)}</td></tr>`
  })
  return `<table class="rounds"><tr><th>round</th><th>version</th><th>samples</th><th>kept</th><th>acceptance</th><th>mean score (all)</th><th>mean score (kept)</th><th>best-of-N gain</th><th>pass@1 of its generator</th><th>statistics from</th></tr>${rows.join("")}</table>`
}

const pct = (x: number | null) => (x === null ? "–" : `${(x * 100).toFixed(1)}%`)

/** Per reviewed round: what reviewers decided and how far they agreed with the discriminator. */
const reviewTable = (data: ReportData): string => {
  const rows = data.rounds.flatMap((r) => {
    const v = r.review
    if (!v) return []
    return [`<tr data-round="${escapeHtml(r.label)}"><td>${escapeHtml(r.label)}</td><td>${v.sampled} (${v.kept_sampled} kept)</td><td>${v.decided}</td><td>${v.accepted}</td><td>${v.rejected}</td><td>${v.left_out}</td><td>${v.edited}</td><td class="agreement">${pct(v.agreement)}</td><td class="kappa">${v.kappa === null ? "–" : v.kappa.toFixed(3)}</td><td>${pct(v.kept_accepted)}</td><td>${escapeHtml(v.reviewers.join(", ") || "–")}</td><td>${v.outcome === "reached" ? "enough decided" : "deadline passed"}</td></tr>`]
  })
  return `<p class="meta">Agreement: share of decided records where the reviewer's verdict (accept or edit = keep) matches selection's; kappa: Cohen's kappa (– when either side used one label only); kept accepted: share of decided kept records the reviewers kept. Rejected records were left out of the commit, edited ones committed with the reviewer's text. 一致率：审核人的决定（接受或编辑即保留）与选择结果一致的比例；kappa：Cohen's kappa。</p>
<table class="rounds" id="review-table"><tr><th>round</th><th>sampled</th><th>decided</th><th>accepted</th><th>rejected</th><th>left out</th><th>edited</th><th>agreement</th><th>kappa</th><th>kept accepted</th><th>reviewers</th><th>ended</th></tr>${rows.join("")}</table>`
}

const lineageTable = (data: ReportData): string => {
  if (data.lineage.length === 0) return "<p>No committed version.</p>"
  const rows = data.lineage.map((v) =>
    `<tr><td>${v.sequence}</td><td><code>${escapeHtml(v.version)}</code></td><td>${escapeHtml(v.campaign)}</td><td>${v.round}</td><td>${escapeHtml(v.generator)} <code>${escapeHtml(v.generator_hash.slice(0, 12))}</code></td><td>${escapeHtml(v.trained_model?.slice(0, 12) ?? "–")}</td><td>${v.records}</td><td>${v.added}</td><td>${v.dropped}</td><td>${v.pass_at_1 === undefined ? "–" : v.pass_at_1.toFixed(3)}</td><td>${escapeHtml(v.created)}</td></tr>`)
  return `<table class="lineage"><tr><th>seq</th><th>version</th><th>campaign</th><th>round</th><th>generator (weights hash)</th><th>trained model</th><th>records</th><th>added</th><th>dropped</th><th>held-out pass@1</th><th>created</th></tr>${rows.join("")}</table>`
}

const browserNotice = (data: ReportData): string => {
  const partial = data.browser.rounds.filter((r) => !r.all_samples)
  const cut = data.browser.rounds.filter((r) => r.shown < r.prompts)
  return [
    partial.length > 0
      ? `<p class="notes" id="rejected-not-kept">Rejected samples were not kept for ${partial.map((r) => escapeHtml(r.label)).join(", ")}: a round's work files (every sample with its scores) are deleted once it commits, so only the kept records are shown there. Set <code>output.keep_work: true</code> in the spec to keep every sample for the report. 这些轮次未保留落选样本，只显示保留的记录。</p>`
      : "",
    cut.length > 0 ? `<p class="notes">Showing the first ${cut.map((r) => `${r.shown} of ${r.prompts} prompts of ${escapeHtml(r.label)}`).join(", ")}.</p>` : ""
  ].join("")
}

/**
 * The report's `index.html`: curves, per-score charts, distributions and correlations (images
 * under `charts/`), the sample browser (its data embedded as JSON, drawn by the embedded script),
 * and the lineage. Works from `file://`: nothing is fetched.
 */
export const reportPage = (data: ReportData, charts: readonly ReportChart[]): string => {
  const section = (name: ReportChart["section"]) => `<div class="charts">${charts.filter((c) => c.section === name).map(figure).join("")}</div>`
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(data.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${escapeHtml(data.title)}</h1>
<p class="meta">${escapeHtml(data.subject.kind)} <code>${escapeHtml(data.subject.ref)}</code>${data.subject.dataset ? ` · dataset <code>${escapeHtml(data.subject.dataset)}</code>` : ""}${data.subject.version ? ` · version <code>${escapeHtml(data.subject.version)}</code>` : ""} · generated ${escapeHtml(data.generated_at)} · scorers: ${data.scorers.map(escapeHtml).join(", ")}</p>
<nav><a href="#rounds">Rounds 轮次</a><a href="#scores">Scores 分数</a><a href="#distributions">Distributions 分布</a>${data.rounds.some((r) => r.review) ? `<a href="#review">Review 审核</a>` : ""}<a href="#browser">Samples 样本</a><a href="#lineage">Lineage 谱系</a></nav>
${data.notes.length > 0 ? `<div class="notes"><ul>${data.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join("")}</ul></div>` : ""}
<h2 id="rounds">Rounds · 轮次</h2>
${roundsTable(data)}
${section("curves")}
<h2 id="scores">Scores per round · 各评分器</h2>
${section("scores")}
<h2 id="distributions">Distributions and agreement · 分布与一致性</h2>
${section("distributions")}
${data.rounds.some((r) => r.review) ? `<h2 id="review">Human review · 人工审核</h2>\n${reviewTable(data)}\n${section("review")}` : ""}
<h2 id="browser">Samples · 样本浏览</h2>
${browserNotice(data)}
<div class="controls">
<input type="search" id="search" placeholder="search prompts and samples · 搜索" aria-label="search">
<label>round <select id="round"><option value="">all rounds</option></select></label>
<label>scorer <select id="scorer"></select></label>
<label>min <input type="number" id="min" step="any" aria-label="minimum score"></label>
<label>max <input type="number" id="max" step="any" aria-label="maximum score"></label>
<label><input type="checkbox" id="kept-only"> kept only · 仅保留</label>
<span id="shown" class="meta"></span>
</div>
<div id="prompts"></div>
<h2 id="lineage">Lineage · 谱系</h2>
${lineageTable(data)}
<script type="application/json" id="report-data">${scriptJson(data)}</script>
<script>${BROWSER_SCRIPT}</script>
</body>
</html>
`
}
