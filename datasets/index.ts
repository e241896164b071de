/**
 * The versioned dataset store: stage segments, commit versions, resolve refs, read, export
 * and verify. Callers use the `DatasetStore` service; the rest are its types and the record
 * helpers selection code needs.
 */
export { DatasetStore, type DatasetStoreApi, type DatasetSummary } from "./store.js"
export {
  ChatMessage, DatasetRecord, DpoRecord, SftRecord, makeRecord, recordId,
  type RecordContent, type RecordDraft
} from "./record.js"
export {
  Lineage, Manifest, ManifestCounts, ManifestSegment, MANIFEST_FORMAT, ScoreStats, ScorerLineage,
  SegmentRef, versionIdOf, type Version
} from "./manifest.js"
export { defaultCommitOptions, type CommitInput, type CommitOptions, type CommitResult } from "./commit.js"
export { defaultLockOptions, type LockOptions } from "./refs.js"
export type { StageInput } from "./staging.js"
export { dpoRow, EXPORT_FORMATS, EXPORT_SCHEMAS, sftRow, type PullOptions, type PullResult } from "./export.js"
export type { VerifyReport } from "./verify.js"
export { DATASET_NAME, CAMPAIGN_ID } from "./validate.js"
export { storeLayout, type StoreLayout } from "./layout.js"
