import type { InputIssue } from "../core/errors.js"
import { type SelectionSpec, selectionIssues } from "./selectionSpec.js"

/** What a campaign writes, as the checks across outputs need it. */
interface Outputs {
  readonly output: { readonly dataset: string }
  readonly outputs?: ReadonlyArray<{ readonly dataset: string; readonly selection: SelectionSpec }>
}

/**
 * Checks across outputs: every dataset is written by one output only, each selection is
 * consistent on its own (`selectionIssues`), and `accept_until` stays with the top-level
 * selection (the campaign's quota counts the records of `output`).
 */
export const outputsIssues = (spec: Outputs): InputIssue[] =>
  (spec.outputs ?? []).flatMap((extra, i): InputIssue[] => {
    const at = `outputs[${i}]`
    const earlier = [["output.dataset", spec.output.dataset], ...(spec.outputs ?? []).slice(0, i).map((o, j) => [`outputs[${j}].dataset`, o.dataset])]
    const writer = earlier.find(([, dataset]) => dataset === extra.dataset)?.[0]
    const issues: InputIssue[] = writer === undefined
      ? []
      : [{ path: `${at}.dataset`, value: extra.dataset, expected: `a dataset no other output writes (${writer} writes ${JSON.stringify(extra.dataset)})` }]
    issues.push(...selectionIssues(extra.selection).map((issue) => ({ ...issue, path: `${at}.${issue.path}` })))
    if (extra.selection.accept_until !== undefined) {
      issues.push({ path: `${at}.selection.accept_until`, value: extra.selection.accept_until, expected: "no accept_until in outputs (the campaign's quota is selection.accept_until, counted on output.dataset)" })
    }
    return issues
  })

/** The work file a shard's selection for `output` goes to (`selected` for output 0, as before outputs existed). */
export const selectedFileOf = (output: number | undefined): string => (output === undefined || output === 0 ? "selected" : `selected-o${output}`)

/**
 * What selection sees for output `output` of a spec: for 0 the spec itself, for k ≥ 1 the spec
 * with `outputs[k-1].selection` (same generator and seed); undefined when the spec has no such
 * entry. Use in the select activity.
 */
export const selectionSpecOf = <S extends { readonly selection: SelectionSpec; readonly outputs?: ReadonlyArray<{ readonly selection: SelectionSpec }> }>(
  spec: S,
  output: number | undefined
): S | undefined => {
  if (output === undefined || output === 0) return spec
  const extra = spec.outputs?.[output - 1]
  return extra === undefined ? undefined : { ...spec, selection: extra.selection }
}
