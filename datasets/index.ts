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
  Lineage, Manifest, ManifestCounts, ManifestSegment, MANIFEST_FORMAT, RoundStats, ScoreStats, ScorerLineage,
  SegmentRef, versionIdOf, type Version
} from "./manifest.js"
export { defaultCommitOptions, type CommitInput, type CommitOptions, type CommitResult } from "./commit.js"
export { defaultLockOptions, type LockOptions } from "./refs.js"
export type { StageInput } from "./staging.js"
export { EXPORT_FORMATS, EXPORT_SCHEMAS, type ExportFormat, type ExportSchema } from "./export/schemas.js"
export type { PullOptions, PullResult } from "./export/pull.js"
export type { VersionDiff } from "./diff.js"
export { DedupOptions, NearDupOptions, NEAR_DUP_DEFAULTS, resolveNearParams } from "./dedupParams.js"
export type { VerifyReport } from "./verify.js"
export { DATASET_NAME, CAMPAIGN_ID } from "./validate.js"
export { storeLayout, type StoreLayout } from "./layout.js"
