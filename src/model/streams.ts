/** Shipwright's legacy cost state, followed as a stream of its own. */
export const LEGACY_COSTS_FILE = 'costs.json';
/** The stream costs.json entries land in (as cost.record events). */
export const COSTS_STREAM = 'costs';
