// `piopiy-ai/testing`: tools to test agents offline.
export * from './frame-collector.js';
export * from './fake-services.js';
export * from './speech.js';
export * from './fakes/openai-chat.js';
export * from './fakes/sse.js';
export * from './random.js';
export * from './fakes/openai-audio.js';
export * from './fakes/anthropic.js';
export * from './fakes/gemini.js';
export * from './fakes/deepgram.js';
export * from './fakes/cartesia.js';
export * from './fakes/elevenlabs.js';
export * from './virtual-clock.js';
export * from './energy-vad.js';
export * from './conversation-simulation.js';
