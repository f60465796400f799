export * from './voice-agent.js';
