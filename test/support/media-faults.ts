// Fault injection on a simulated call's media connection, from the platform's side. SimulatedCall keeps its
// socket private (user code has no business with it); reliability tests reach it here, in one place.
import type WebSocket from 'ws';
import type { SimulatedCall } from '../../src/testing/simulator/index.js';

function mediaSocket(call: SimulatedCall): WebSocket {
  const socket = (call as unknown as { socket: WebSocket | undefined }).socket;
  if (socket === undefined) throw new Error(`call ${call.callId}: the agent's media has not joined`);
  return socket;
}

/** Destroys the call's media socket without a close frame, as a network failure would. */
export function destroyMediaSocket(call: SimulatedCall): void {
  mediaSocket(call).terminate();
}

/** Sends raw frames (text or binary) on the call's media socket, bypassing the simulator's protocol. */
export function sendRawMedia(call: SimulatedCall, frames: readonly (string | Buffer)[]): void {
  const socket = mediaSocket(call);
  for (const frame of frames) socket.send(frame, { binary: typeof frame !== 'string' });
}
