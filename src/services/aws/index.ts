// `piopiy-ai/services/aws`: Amazon Polly over its REST API, signed with SigV4.
export * from './polly.js';
export type { AwsCredentials } from './sigv4.js';
