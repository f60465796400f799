export * from './conversation.js';
export * from './history.js';
export * from './user-turn-aggregator.js';
export * from './assistant-aggregator.js';
export * from './dtmf-aggregator.js';
