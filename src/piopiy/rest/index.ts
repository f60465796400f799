// The Piopiy v3 REST API: client, pipeline builder, validators (shared with the local simulator), errors.
export * from './types.js';
export * from './errors.js';
export { RestClient, DEFAULT_BASE_URL, VoiceApi, AiApi, PcmoApi, FlowApi, type RestClientOptions } from './client.js';
export { PipelineBuilder } from './pipeline.js';
export { normalizePhone } from './normalize.js';
export type { RetryPolicy } from './http.js';
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
