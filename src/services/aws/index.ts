// `piopiy-ai/services/aws`: Amazon Polly (TTS), Bedrock (LLM) and Transcribe (STT), signed with SigV4.
export * from './polly.js';
export * from './bedrock.js';
export * from './transcribe.js';
export type { AwsCredentials } from './sigv4.js';
export type { AwsCredentialsOption } from './credentials.js';
