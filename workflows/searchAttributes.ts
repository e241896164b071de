import { defineSearchAttributeKey, SearchAttributeType } from "@temporalio/common"
import { SEARCH_ATTRIBUTES } from "../campaign/contracts.js"

/** Typed key of the dataset a campaign writes to. */
export const DATASET_KEY = defineSearchAttributeKey(SEARCH_ATTRIBUTES.dataset, SearchAttributeType.KEYWORD)
/** Typed key of a campaign's lifecycle status. */
export const STATUS_KEY = defineSearchAttributeKey(SEARCH_ATTRIBUTES.status, SearchAttributeType.KEYWORD)
/** Typed key of a campaign's spec name. */
export const CAMPAIGN_KEY = defineSearchAttributeKey(SEARCH_ATTRIBUTES.campaign, SearchAttributeType.KEYWORD)
