// What bench/capacity/capacity.ts and its environment process (environment.ts) say to each other over IPC.

export const AGENT_ID = 'capacity-agent';
export const AGENT_TOKEN = 'capacity-token';

export type EnvironmentRequest = { readonly type: 'connected' } | { readonly type: 'run'; readonly calls: number; readonly turns: number };

export type EnvironmentReply =
  | { readonly type: 'ready'; readonly signalingUrl: string; readonly deepgramUrl: string; readonly openaiUrl: string; readonly cartesiaUrl: string }
  | { readonly type: 'connected'; readonly connected: boolean }
  /** Every answered turn's voice-to-voice time, every agent-audio arrival gap while it spoke, turns unanswered. */
  | { readonly type: 'result'; readonly voiceToVoiceMs: number[]; readonly gapsMs: number[]; readonly unanswered: number };
