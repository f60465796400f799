// The Piopiy v3 REST API: client, pipeline builder, validators (shared with the local simulator), errors.
export * from './types.js';
export * from './errors.js';
export { RestClient, DEFAULT_BASE_URL, VoiceApi, AiApi, PcmoApi, FlowApi, type RestClientOptions } from './client.js';
export { PipelineBuilder } from './pipeline.js';
export {
  CallsApi,
  parseTransferStatus,
  type CallHangupOptions,
  type QueuedAction,
  type TransferDestination,
  type TransferFailureReason,
  type TransferState,
  type TransferStatus,
  type WaitForTransferOptions,
  type WarmTransferBody,
  type WarmTransferInput,
} from './call-control.js';
export {
  AgentsApi,
  DEFAULT_MANAGEMENT_BASE_URL,
  type CreateAgentBody,
  type CreateAgentInput,
  type RouteNumberBody,
  type RouteNumberInput,
} from './agents.js';
export { validateCreateAgentBody, validateRouteNumberBody, validateWarmTransferBody } from './call-control-validation.js';
export { normalizePhone } from './normalize.js';
export type { HttpMethod, RetryPolicy } from './http.js';
export {
  PHONE_PATTERN,
  validatePipeline,
  validateTransferBody,
  validateHangupBody,
  validateAiCallBody,
  validateAiCallRequest,
  validatePcmoCallBody,
  validateFlowCallBody,
  validateCallActionHangupBody,
  validateCallActionTransferBody,
} from './validation.js';
