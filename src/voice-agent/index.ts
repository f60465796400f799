export * from './voice-agent.js';
export { PlayoutTracker, type SpeechPlayout } from './playout.js';
