import { readFile } from "node:fs/promises"
import type { ReviewItem } from "../campaign/review.js"
import type { WorkArea } from "../datasets/workArea.js"
import { ReviewProblem } from "./api.js"

/**
 * Reads the record texts of a round's review sample from the store's work area (the file the
 * round's `openReview` wrote), once per round. Use as the review API's `ItemReader`; the review
 * page must run where the campaign's store is (the same WINNOW_HOME as its worker).
 */
export const reviewItemReader = (work: WorkArea) => {
  const rounds = new Map<string, Promise<Map<string, ReviewItem>>>()
  const load = async (campaign: string, round: number): Promise<Map<string, ReviewItem>> => {
    const path = work.reviewFile(campaign, round)
    const text = await readFile(path, "utf8").catch(() => {
      throw new ReviewProblem(500, "REVIEW_NO_FILE", `round ${round} of campaign ${campaign} has no review file at ${path}: run \`winnow review\` with the WINNOW_HOME of the campaign's worker`)
    })
    const items = text.split("\n").filter((line) => line.length > 0).map((line) => JSON.parse(line) as ReviewItem)
    return new Map(items.map((item) => [item.id, item]))
  }
  return async (campaign: string, round: number, id: string): Promise<ReviewItem> => {
    const key = `${campaign}\0${round}`
    let loading = rounds.get(key)
    if (loading === undefined) {
      loading = load(campaign, round)
      rounds.set(key, loading)
      loading.catch(() => rounds.delete(key))
    }
    const item = (await loading).get(id)
    if (item === undefined) throw new ReviewProblem(500, "REVIEW_NO_FILE", `record ${id} is not in the review file of round ${round} of campaign ${campaign}`)
    return item
  }
}
