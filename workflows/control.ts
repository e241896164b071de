import { defineQuery, defineUpdate, setHandler } from "@temporalio/workflow"
import { applyLiveChange, type CarriedControl, checkLiveChange, type ControlState, type SettingsRevision } from "../campaign/liveSettings.js"
import type { CampaignSpec } from "../campaign/spec.js"


/** Pause at shard boundaries: running shards finish and are kept; no new shard starts until `resume`. */
export const pauseUpdate = defineUpdate<ControlState>("pause")
/** Let a paused campaign launch shards again. */
export const resumeUpdate = defineUpdate<ControlState>("resume")
/** Change live settings (`generator.n`, `generator.temperature`, `selection.min_score`, … see `campaign/liveSettings.ts`); shards launched afterwards use them. */
export const setUpdate = defineUpdate<ControlState, [Record<string, unknown>]>("set")
/** The spec a running campaign uses now, with every accepted change applied. */
export const specQuery = defineQuery<CampaignSpec>("spec")


/**
 * A campaign's live controls: the spec as changed so far, whether it is paused, every accepted
 * change. Registers the updates and the query; a `set` is validated before it is accepted (an
 * unknown key or an out-of-range value is refused and nothing is applied) and recorded as a
 * revision in the history, in `campaign status` and, through the shard inputs, in records.
 */
export class CampaignControl {
  private current: CampaignSpec
  private paused: boolean
  private revisions: SettingsRevision[]

  constructor(spec: CampaignSpec, carried?: CarriedControl, private readonly onChange: () => void = () => {}) {
    this.current = spec
    this.paused = carried?.paused ?? false
    this.revisions = [...(carried?.revisions ?? [])]
  }

  /** Registers the handlers; call once at the start of each run. */
  register(): void {
    setHandler(pauseUpdate, () => this.change(() => { this.paused = true }))
    setHandler(resumeUpdate, () => this.change(() => { this.paused = false }))
    setHandler(setUpdate, (values) => this.change(() => {
      this.current = applyLiveChange(this.current, values)
      this.revisions.push({ revision: this.revisions.length + 1, at: new Date().toISOString(), values })
    }), {
      validator: (values) => {
        const issues = checkLiveChange(values ?? {})
        if (issues.length > 0) throw new Error(issues.map((i) => `${i.path}: got ${JSON.stringify(i.value)}, expected ${i.expected}`).join("; "))
      }
    })
    setHandler(specQuery, () => this.current)
  }

  /** The spec with every change so far. */
  get spec(): CampaignSpec {
    return this.current
  }

  /** The latest revision number (0: as started). */
  get revision(): number {
    return this.revisions.length
  }

  /** True while paused. */
  get isPaused(): boolean {
    return this.paused
  }

  /** What continue-as-new carries. */
  carry(): CarriedControl {
    return { paused: this.paused, revisions: this.revisions }
  }

  /** The state `pause`, `resume` and `set` answer with. */
  state(): ControlState {
    return { paused: this.paused, revision: this.revision, revisions: this.revisions }
  }

  private change(apply: () => void): ControlState {
    apply()
    this.onChange()
    return this.state()
  }
}
