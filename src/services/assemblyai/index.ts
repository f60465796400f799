// `piopiy-ai/services/assemblyai`: AssemblyAI Universal Streaming speech-to-text.
export * from './stt.js';
