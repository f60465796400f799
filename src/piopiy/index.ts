// The Piopiy platform: REST call control (signaling is in src/agent, media in src/transports).
export * from './rest/index.js';
export * from './dtmf-callback.js';
