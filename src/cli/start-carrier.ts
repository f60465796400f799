// `piopiy-ai start <file> --transport twilio|exotel|plivo|telnyx|vonage`: serves a carrier's webhook and media
// stream on one port with the agent file's `onCall` (a named or default export: it gets each call's session and
// runs a VoiceAgent on it). Credentials come from the environment (never from flags, which land in shell history):
// the variables each carrier needs are in CARRIER_ENV and in the error when one is missing.
import { readFileSync } from 'node:fs';
import { getDefaultLogger, type Logger } from '../logging/index.js';
import { ExotelServer } from '../transports/exotel/exotel-server.js';
import type { CarrierHandlers } from '../transports/media-stream/stream-sessions.js';
import type { MediaStreamSessionBase } from '../transports/media-stream/stream-sessions.js';
import { PlivoServer } from '../transports/plivo/plivo-server.js';
import { TelnyxServer } from '../transports/telnyx/telnyx-server.js';
import { TwilioServer } from '../transports/twilio/twilio-server.js';
import { VonageServer } from '../transports/vonage/vonage-server.js';
import { importAgentFile } from './agent-file.js';
import { CliError } from './errors.js';
import type { StartTransport } from './command-choices.js';
export { START_TRANSPORTS, type StartTransport } from './command-choices.js';

/** The environment variables each carrier's server reads (optional ones: PUBLIC_URL, <CARRIER>_API_BASE_URL). */
export const CARRIER_ENV: Record<StartTransport, readonly string[]> = {
  twilio: ['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN'],
  exotel: ['EXOTEL_STREAM_USER', 'EXOTEL_STREAM_PASSWORD'],
  plivo: ['PLIVO_AUTH_ID', 'PLIVO_AUTH_TOKEN'],
  telnyx: ['TELNYX_API_KEY', 'TELNYX_PUBLIC_KEY'],
  vonage: ['VONAGE_APPLICATION_ID', 'VONAGE_PRIVATE_KEY', 'VONAGE_SIGNATURE_SECRET'],
};

/** What the agent file exports for a carrier: one call's session in, resolved when the call is over. */
export type CarrierOnCall = (call: MediaStreamSessionBase) => Promise<void> | void;

/** A carrier's server, whatever the carrier. */
export interface CarrierServer extends CarrierHandlers {
  listen(options?: { port?: number; host?: string }): Promise<string>;
  close(): Promise<void>;
  /** What to set at the carrier, for the startup message (`origin` is where it reaches this server). */
  setup(origin: string): string;
}

/** The carrier's server with credentials from `env`; a CliError names the variables missing. */
export function carrierServerFromEnv(transport: StartTransport, onCall: CarrierOnCall, env: NodeJS.ProcessEnv = process.env, logger: Logger = getDefaultLogger()): CarrierServer {
  const missing = CARRIER_ENV[transport].filter((name) => (env[name] ?? '') === '');
  if (missing.length > 0) throw new CliError(`--transport ${transport} needs ${missing.join(', ')} in the environment (see docs/carriers.md)`);
  const v = (name: string): string => env[name]!;
  const publicUrl = env.PUBLIC_URL === '' ? undefined : env.PUBLIC_URL;
  const apiBaseUrl = env[`${transport.toUpperCase()}_API_BASE_URL`] || undefined;
  switch (transport) {
    case 'twilio': {
      const server = new TwilioServer({ accountSid: v('TWILIO_ACCOUNT_SID'), authToken: v('TWILIO_AUTH_TOKEN'), apiBaseUrl, publicUrl, logger, onCall });
      return Object.assign(server, { setup: (origin: string) => `set the number's Voice URL (HTTP POST) to ${origin}/twilio/voice` });
    }
    case 'exotel': {
      const server = new ExotelServer({ streamAuth: { username: v('EXOTEL_STREAM_USER'), password: v('EXOTEL_STREAM_PASSWORD') }, logger, onCall });
      return Object.assign(server, { setup: (origin: string) => `set the Voicebot applet's URL to ${server.streamUrl(origin).replace(/:[^:@/]+@/, ':****@')}` });
    }
    case 'plivo': {
      const server = new PlivoServer({ authId: v('PLIVO_AUTH_ID'), authToken: v('PLIVO_AUTH_TOKEN'), apiBaseUrl, publicUrl, logger, onCall });
      return Object.assign(server, { setup: (origin: string) => `set the application's Answer URL (POST) to ${origin}/plivo/answer` });
    }
    case 'telnyx': {
      const server = new TelnyxServer({ apiKey: v('TELNYX_API_KEY'), publicKey: v('TELNYX_PUBLIC_KEY'), apiBaseUrl, publicUrl, logger, onCall });
      return Object.assign(server, { setup: (origin: string) => `set the Call Control application's webhook URL to ${origin}/telnyx/webhook` });
    }
    case 'vonage': {
      // The private key as PEM text, or a path to the PEM file Vonage's dashboard downloads.
      const key = v('VONAGE_PRIVATE_KEY').includes('-----BEGIN') ? v('VONAGE_PRIVATE_KEY') : readFileSync(v('VONAGE_PRIVATE_KEY'), 'utf8');
      const server = new VonageServer({ applicationId: v('VONAGE_APPLICATION_ID'), privateKey: key, signatureSecret: v('VONAGE_SIGNATURE_SECRET'), apiBaseUrl, publicUrl, logger, onCall });
      return Object.assign(server, { setup: (origin: string) => `set the application's answer URL to ${origin}/vonage/answer (signed webhooks on)` });
    }
  }
}

/** The agent file's `onCall` (named export, or a default-exported function); a CliError says what to export. */
export function onCallOf(module: unknown, file: string): CarrierOnCall {
  const exports = (module ?? {}) as { onCall?: unknown; default?: unknown };
  const found = typeof exports.onCall === 'function' ? exports.onCall : exports.default;
  if (typeof found !== 'function') {
    throw new CliError(`${file} exports no onCall: with --transport, export \`async function onCall(call) { ... }\` that runs a VoiceAgent on the call`);
  }
  return found as CarrierOnCall;
}

/** Imports the agent file and serves its `onCall` for `transport` on `port`; resolves with the server and origin. */
export async function startCarrier(
  path: string,
  file: string,
  options: { transport: StartTransport; port: number; host?: string; env?: NodeJS.ProcessEnv },
): Promise<{ server: CarrierServer; origin: string }> {
  const onCall = onCallOf(await importAgentFile(path, file), file);
  const server = carrierServerFromEnv(options.transport, onCall, options.env);
  const origin = await server.listen({ port: options.port, host: options.host ?? '0.0.0.0' });
  return { server, origin };
}

/** A `--port` value as a port number, or a CliError. */
export function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new CliError(`--port must be a port number (0 to 65535), got ${value}`);
  return port;
}
