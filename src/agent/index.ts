export * from './agent.js';
export * from './invite.js';
