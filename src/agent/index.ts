export * from './agent.js';
export * from './invite.js';
export * from './prewarm.js';
export type { InviteHandlers, InviteSource } from './invite-source.js';
