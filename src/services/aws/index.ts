// `piopiy-ai/services/aws`: Amazon Polly (TTS) and Bedrock (LLM), signed with SigV4.
export * from './polly.js';
export * from './bedrock.js';
export type { AwsCredentials } from './sigv4.js';
export type { AwsCredentialsOption } from './credentials.js';
