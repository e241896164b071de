/**
 * Every string the review page shows, in English and Chinese; the page shows both side by side.
 * `{name}` marks a value the page fills in. Keys starting with a refusal code (`REVIEW_…`) explain
 * why the campaign refused a claim or a decision.
 */
export const REVIEW_STRINGS = {
  title: { en: "winnow review", zh: "人工审核" },
  reviewer: { en: "Reviewer", zh: "审核人" },
  campaign: { en: "Campaign", zh: "活动" },
  round: { en: "Round", zh: "轮次" },
  prompt: { en: "Prompt", zh: "提示" },
  response: { en: "Response", zh: "回答" },
  rejectedResponse: { en: "Rejected answer of the pair", zh: "偏好对中落选的回答" },
  scorers: { en: "What the scorers said", zh: "评分器的判断" },
  combined: { en: "combined score", zh: "综合分" },
  passed: { en: "passed every filter", zh: "通过所有过滤器" },
  failedFilters: { en: "failed filters", zh: "未通过的过滤器" },
  kept: { en: "The discriminator kept it", zh: "判别器保留了它" },
  notKept: { en: "The discriminator did not keep it", zh: "判别器没有保留它" },
  agreementOnly: { en: "In the sample to measure agreement only: accepting it does not add it to the dataset, and it cannot be edited.", zh: "仅用于衡量一致性：接受不会把它加入数据集，也不能编辑。" },
  accept: { en: "Accept", zh: "接受" },
  reject: { en: "Reject", zh: "拒绝" },
  edit: { en: "Edit", zh: "编辑" },
  skip: { en: "Skip", zh: "跳过" },
  save: { en: "Save edit", zh: "保存修改" },
  cancel: { en: "Cancel", zh: "取消" },
  retry: { en: "Retry", zh: "重试" },
  reload: { en: "Reload", zh: "重新载入" },
  keys: { en: "Keys: a accept · r reject · e edit · s skip · Ctrl+Enter save · Esc cancel", zh: "快捷键：a 接受 · r 拒绝 · e 编辑 · s 跳过 · Ctrl+Enter 保存 · Esc 取消" },
  progress: { en: "{decided} of {required} decisions needed ({sampled} sampled: {accepted} accepted, {rejected} rejected, {edited} edited)", zh: "已决定 {decided} / 需要 {required}（抽样 {sampled}：接受 {accepted}，拒绝 {rejected}，编辑 {edited}）" },
  deadline: { en: "deadline {deadline}, then {then_en}", zh: "截止 {deadline}，之后{then_zh}" },
  then_commit: { en: "it commits what is decided", zh: "提交已决定的部分" },
  then_fail: { en: "the campaign fails", zh: "活动失败" },
  held: { en: "held for you until {until}", zh: "为你保留至 {until}" },
  waiting: { en: "No round is waiting for review right now; this page checks again every few seconds.", zh: "当前没有等待审核的轮次；页面每隔几秒自动检查。" },
  nothingLeft: { en: "Nothing left for you in this round: the rest is decided or held by other reviewers. Checking again…", zh: "本轮没有留给你的记录：其余记录已决定或正由其他审核人处理。稍后自动重试…" },
  accepted: { en: "Accepted", zh: "已接受" },
  rejected: { en: "Rejected", zh: "已拒绝" },
  edited: { en: "Edited", zh: "已编辑" },
  skipped: { en: "Skipped: it goes back to the pool", zh: "已跳过：记录回到待审核池" },
  repeated: { en: "This decision was already recorded; nothing changed.", zh: "该决定此前已记录，未重复应用。" },
  offline: { en: "Connection lost: the decision was not confirmed. Retrying sends the same decision id, so it is never applied twice.", zh: "连接中断：决定未得到确认。重试会使用相同的决定编号，因此绝不会重复应用。" },
  needReviewer: { en: "Enter your name first.", zh: "请先填写你的名字。" },
  REVIEW_STALE: { en: "This page is out of date; nothing was changed.", zh: "页面已过期，未做任何更改。" },
  REVIEW_CLOSED: { en: "This round's review is closed; nothing was changed.", zh: "本轮审核已关闭，未做任何更改。" },
  REVIEW_NOT_PENDING: { en: "This record is not pending any more; nothing was changed.", zh: "该记录已不再待审核，未做任何更改。" },
  REVIEW_CLAIMED: { en: "Another reviewer holds this record; nothing was changed.", zh: "另一位审核人正在审核该记录，未做任何更改。" },
  REVIEW_NOT_IN_SAMPLE: { en: "This record is not in the round's sample; nothing was changed.", zh: "该记录不在本轮抽样中，未做任何更改。" },
  REVIEW_NOT_OPEN: { en: "No review is open in this campaign right now.", zh: "该活动当前没有开放的审核。" },
  REVIEW_NOT_FOUND: { en: "No such campaign.", zh: "找不到该活动。" },
  REVIEW_BAD_REQUEST: { en: "The request was refused; nothing was changed.", zh: "请求被拒绝，未做任何更改。" },
  REVIEW_NO_ANSWER: { en: "The campaign did not answer in time.", zh: "活动未及时响应。" },
  REVIEW_NO_FILE: { en: "The round's records are not in this store.", zh: "本轮记录不在此存储中。" },
  REVIEW_FAILED: { en: "Something went wrong.", zh: "出错了。" }
} as const

/** A key of `REVIEW_STRINGS`. */
export type ReviewStringKey = keyof typeof REVIEW_STRINGS
