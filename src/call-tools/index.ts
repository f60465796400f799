// Ready-made Piopiy call tools: transfer_call (blind or warm, with status) and end_call (after the goodbye).
export { piopiyCallTools, type CallTools, type CallToolsOptions } from './call-tools.js';
export { DEFAULT_FAILURE_LINES, type TransferArgs, type TransferTarget, type TransferToolOptions } from './transfer-call.js';
export { DEFAULT_HANGUP_CAUSE, type EndCallArgs, type EndCallToolOptions } from './end-call.js';
export { transferSummary, DEFAULT_MAX_SUMMARY_CHARS, type SummaryInput } from './summary.js';
export type { CallToolResult } from './results.js';
