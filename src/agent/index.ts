export * from './agent.js';
export * from './invite.js';
export * from './prewarm.js';
