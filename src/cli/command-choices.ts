// The values the command line offers (choices, defaults), apart from the modules that act on them: building the
// program for `--help`, `--version` or one command loads only that command's modules (each spawn of the CLI paid
// for the whole graph: the simulator, the fakes, every carrier server).

export const DEMO_CARRIERS = ['twilio', 'exotel', 'plivo', 'telnyx', 'vonage'] as const;
export type DemoCarrier = (typeof DEMO_CARRIERS)[number];

export type DemoRealtimeModel = 'openai' | 'gemini';
export const DEMO_REALTIME_MODELS: readonly DemoRealtimeModel[] = ['openai', 'gemini'];

export const DEFAULT_DEV_PORT = 7860;
export const DEFAULT_DEV_HOST = '127.0.0.1';

export const START_TRANSPORTS = ['twilio', 'exotel', 'plivo', 'telnyx', 'vonage'] as const;
export type StartTransport = (typeof START_TRANSPORTS)[number];
