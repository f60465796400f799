// `piopiy-ai/services/speechmatics`: Speechmatics real-time speech-to-text.
export * from './stt.js';
