export { startLiveKitTestServer, type LiveKitTestServer, type LiveKitTestServerOptions } from './server.js';
export type { TokenOptions as LiveKitTestTokenOptions } from './tokens.js';
