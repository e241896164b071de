import { escapeHtml, scriptJson } from "../report/page.js"
import { REVIEW_SCRIPT } from "./pageScript.js"
import { REVIEW_STRINGS, type ReviewStringKey } from "./strings.js"

const CJK_FONTS = `"PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei", sans-serif`

const STYLE = `
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", Arial, ${CJK_FONTS}; margin: 0 auto; max-width: 1100px; padding: 12px 24px 48px; color: #222; line-height: 1.45; }
:lang(zh) { font-family: ${CJK_FONTS}; }
header.top { display: flex; flex-wrap: wrap; gap: 14px; align-items: center; border-bottom: 1px solid #ddd; padding-bottom: 8px; }
header.top h1 { font-size: 1.3em; margin: 0 12px 0 0; }
.zh { color: #555; margin-left: 0.35em; }
.meta { color: #666; font-size: 0.9em; }
#message { margin: 10px 0; padding: 8px 12px; border-radius: 6px; display: none; }
#message.show { display: block; } #message.ok { background: #e8f5e9; border: 1px solid #a5d6a7; }
#message.error { background: #ffebee; border: 1px solid #ef9a9a; } #message.offline, #message.stale { background: #fff8e1; border: 1px solid #f0d98c; }
#record { display: grid; grid-template-columns: minmax(0, 2fr) minmax(240px, 1fr); gap: 16px; margin-top: 12px; }
.panel { border: 1px solid #ddd; border-radius: 6px; padding: 10px 14px; background: #fff; }
.turn { margin: 6px 0; white-space: pre-wrap; word-break: break-word; } .turn .role { font-size: 0.8em; color: #777; text-transform: uppercase; margin-right: 6px; }
.turn.system { color: #666; font-size: 0.9em; }
#response, #rejected-response { white-space: pre-wrap; word-break: break-word; font-size: 1.05em; padding: 8px; background: #f7f7f7; border-radius: 4px; }
#edit-text { width: 100%; min-height: 10em; font: inherit; font-size: 1.05em; box-sizing: border-box; }
.badge { display: inline-block; border-radius: 4px; padding: 2px 8px; font-size: 0.9em; } .badge.kept { background: #2e7d32; color: #fff; } .badge.not-kept { background: #b71c1c; color: #fff; }
table.scores { border-collapse: collapse; width: 100%; font-size: 0.9em; } table.scores td, table.scores th { border-bottom: 1px solid #eee; padding: 3px 4px; text-align: left; }
.actions { display: flex; flex-wrap: wrap; gap: 8px; margin: 12px 0; } .actions button { font-size: 1em; padding: 6px 14px; cursor: pointer; }
button kbd { font-size: 0.8em; border: 1px solid #bbb; border-radius: 3px; padding: 0 3px; margin-right: 4px; background: #fafafa; }
#accept { background: #e8f5e9; } #reject { background: #ffebee; } #edit { background: #e3f2fd; }
.hidden { display: none !important; }
`

/** Both languages of one string, side by side, as HTML. */
export const bilingual = (key: ReviewStringKey): string =>
  `<span lang="en">${escapeHtml(REVIEW_STRINGS[key].en)}</span><span lang="zh" class="zh">${escapeHtml(REVIEW_STRINGS[key].zh)}</span>`

const button = (id: string, key: ReviewStringKey, shortcut: string) => `<button type="button" id="${id}"><kbd>${shortcut}</kbd>${bilingual(key)}</button>`

/**
 * The review page: one record at a time (prompt, response, each scorer's score, whether the
 * discriminator kept it) with accept / reject / edit / skip buttons and keyboard shortcuts,
 * every string in English and Chinese. `config` says which campaign it serves and the reviewer
 * name it proposes; the embedded script does the rest through the JSON API.
 */
export const reviewPage = (config: { readonly campaign: string | null; readonly reviewer: string }): string => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>winnow review · 人工审核</title>
<style>${STYLE}</style>
</head>
<body>
<header class="top">
<h1>${bilingual("title")}</h1>
<label>${bilingual("reviewer")} <input id="reviewer" autocomplete="username" size="14"></label>
<span class="meta">${bilingual("campaign")} <code id="campaign">–</code> · ${bilingual("round")} <code id="round">–</code></span>
<span id="progress" class="meta"></span>
</header>
<p class="meta">${bilingual("keys")}</p>
<div id="message" role="status" aria-live="polite"><span id="message-text"></span> <button type="button" id="retry" class="hidden">${bilingual("retry")}</button><button type="button" id="reload" class="hidden">${bilingual("reload")}</button></div>
<p id="idle" class="meta hidden"></p>
<section id="record" class="hidden">
<div>
<div class="panel"><h3>${bilingual("prompt")}</h3><div id="prompt"></div></div>
<div class="panel"><h3>${bilingual("response")}</h3><div id="response"></div><textarea id="edit-text" class="hidden" aria-label="edited response"></textarea>
<div id="rejected-block" class="hidden"><h4>${bilingual("rejectedResponse")}</h4><div id="rejected-response"></div></div></div>
<div class="actions" id="actions">${button("accept", "accept", "a")}${button("reject", "reject", "r")}${button("edit", "edit", "e")}${button("skip", "skip", "s")}</div>
<div class="actions hidden" id="edit-actions">${button("save", "save", "Ctrl+Enter")}${button("cancel", "cancel", "Esc")}</div>
</div>
<aside class="panel">
<p><span id="kept-badge" class="badge"></span></p>
<p id="agreement-note" class="meta hidden">${bilingual("agreementOnly")}</p>
<h3>${bilingual("scorers")}</h3>
<table class="scores" id="scores"></table>
<p class="meta" id="record-meta"></p>
</aside>
</section>
<script type="application/json" id="review-config">${scriptJson({ ...config, strings: REVIEW_STRINGS })}</script>
<script>${REVIEW_SCRIPT}</script>
</body>
</html>
`
