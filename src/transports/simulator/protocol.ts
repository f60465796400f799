// The media protocol between the local Piopiy simulator (`piopiy-ai/testing`) and SimulatorMediaTransport.
// It stands in for a LiveKit room offline: one WebSocket per call at `ws://host:port/media?room=<room>`
// (`Authorization: Bearer <media token from the invite>`); PCM16 little-endian mono in binary frames both ways;
// JSON text frames for everything else. Invites carry `piopiy-sim://host:port/media` as their url so an Agent
// picks this transport by itself.

export const SIMULATOR_URL_SCHEME = 'piopiy-sim:';

/** Agent -> simulator. */
export type AgentMediaMessage =
  /** First message: the rate of the agent audio that follows. */
  | { type: 'hello'; sampleRate: number }
  | { type: 'message'; data: unknown }
  /** The agent pressed a key (one keypad key: 0-9, *, #, A-D). */
  | { type: 'dtmf'; digit: string };

/** Simulator -> agent. */
export type CallerMediaMessage =
  /** The caller is on the line; caller audio follows at `sampleRate`. */
  | { type: 'caller-joined'; sampleRate: number }
  | { type: 'caller-left'; reason: string }
  /** The caller pressed a key (one keypad key: 0-9, *, #, A-D). */
  | { type: 'dtmf'; digit: string }
  | { type: 'message'; data: unknown };

/** The ws:// URL of a `piopiy-sim://` media URL. */
export function simulatorWebSocketUrl(url: string, roomName: string): string {
  const parsed = new URL(url.replace(/^piopiy-sim:/, 'ws:'));
  parsed.searchParams.set('room', roomName);
  return parsed.toString();
}
