// startLiveKitTestServer: a LiveKit-protocol server for tests, on 127.0.0.1, that the real @livekit/rtc-node client
// joins. It speaks the signal protocol over WebSocket (`/rtc`, binary protobuf SignalRequest/SignalResponse from
// @livekit/protocol), checks LiveKit JWTs, and forwards Opus audio and data packets between the participants of a
// room over werift peer connections. Only what a Piopiy call uses; docs/livekit-test-server.md lists the rest.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { DisconnectReason, SignalRequest, SignalResponse } from '@livekit/protocol';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Participant } from './participant.js';
import { TestRoom } from './room.js';
import { JoinRefused, TestServerTokens, type JoinGrant, type TokenOptions } from './tokens.js';

export interface LiveKitTestServerOptions {
  /** Default 'devkey'. */
  apiKey?: string;
  /** Default a fixed development secret (the server listens on loopback only). */
  apiSecret?: string;
  /** Called with each protocol error the server answers with (a refused join, a request it does not implement). */
  onProtocolError?: (error: Error) => void;
}

export interface LiveKitTestServer {
  /** `ws://127.0.0.1:<port>`: what a client passes to `Room.connect`. */
  readonly url: string;
  readonly apiKey: string;
  /** An access token for `identity` in `roomName` (signed with this server's key). */
  createToken(options: TokenOptions): Promise<string>;
  /** The same, synchronously. */
  createTokenSync(options: TokenOptions): string;
  /** The rooms with someone in them. */
  roomNames(): string[];
  /** Identities in a room (empty when the room does not exist). */
  participants(roomName: string): string[];
  /** RTP packets the server received from `identity`'s published tracks. */
  rtpPacketsFrom(roomName: string, identity: string): number;
  /** Sends a keypad key as LiveKit's SIP bridge does (a `sipDtmf` DataPacket from `fromIdentity`). */
  sendSipDtmf(roomName: string, options: { fromIdentity: string; code: number; digit: string }): number;
  /** Removes a participant as the RoomService API does: it gets Leave, the others see it go. */
  removeParticipant(roomName: string, identity: string): Promise<void>;
  /**
   * Drops a participant's connections without a Leave (a network failure seen from the server). By default its
   * reconnection attempts are then refused with 401, so the client gives up; with `allowRejoin` it may join again
   * (rtc-node's full reconnect).
   */
  dropParticipant(roomName: string, identity: string, options?: { allowRejoin?: boolean }): Promise<void>;
  /** Deletes a room as the RoomService API does: everyone gets Leave (ROOM_DELETED). */
  deleteRoom(roomName: string): Promise<void>;
  close(): Promise<void>;
}

const DEFAULT_API_KEY = 'devkey';
const DEFAULT_API_SECRET = 'piopiy-ai-livekit-test-server-secret';

export async function startLiveKitTestServer(options: LiveKitTestServerOptions = {}): Promise<LiveKitTestServer> {
  const tokens = new TestServerTokens(options.apiKey ?? DEFAULT_API_KEY, options.apiSecret ?? DEFAULT_API_SECRET);
  const rooms = new Map<string, TestRoom>();
  const barred = new Set<string>();
  const reportError = (error: Error): void => options.onProtocolError?.(error);
  const wss = new WebSocketServer({ noServer: true });

  async function admit(request: IncomingMessage, url: URL): Promise<JoinGrant> {
    const grant = await tokens.verify(tokenOf(request, url));
    if (barred.has(`${grant.roomName}\n${grant.identity}`)) {
      throw new JoinRefused(401, `participant ${grant.identity} was dropped from room ${grant.roomName}`);
    }
    if (url.searchParams.get('reconnect') === '1') {
      throw new JoinRefused(404, 'resuming a signal connection is not implemented by the LiveKit test server');
    }
    return grant;
  }

  const http: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (url.pathname === '/rtc/validate' || url.pathname === '/rtc/v1/validate') {
      admit(request, url).then(
        () => response.writeHead(200).end('success'),
        (error: unknown) => refuseHttp(response, error),
      );
      return;
    }
    response.writeHead(404).end('not found');
  });

  http.on('upgrade', (request: IncomingMessage, socket: Socket, head: Buffer) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    // Single-PC mode (/rtc/v1) is not implemented: a 404 makes the client fall back to /rtc, as with older servers.
    if (url.pathname !== '/rtc') return refuseUpgrade(socket, 404, `no signal endpoint at ${url.pathname}`);
    admit(request, url).then(
      (grant) => wss.handleUpgrade(request, socket, head, (ws) => void connect(ws, grant)),
      (error: unknown) => {
        reportError(error as Error);
        refuseUpgrade(socket, error instanceof JoinRefused ? error.status : 500, (error as Error).message);
      },
    );
  });

  async function connect(ws: WebSocket, grant: JoinGrant): Promise<void> {
    let room = rooms.get(grant.roomName);
    if (room === undefined) {
      room = new TestRoom(grant.roomName, (empty) => {
        if (rooms.get(empty.name) === empty) rooms.delete(empty.name);
      });
      rooms.set(grant.roomName, room);
    }
    const link = {
      send: (message: SignalResponse['message']) => {
        if (ws.readyState === ws.OPEN) ws.send(new SignalResponse({ message }).toBinary());
      },
      close: () => ws.close(1000),
    };
    const participant: Participant = await room.join(grant, link);
    const joinedRoom = room;
    // Requests are handled one at a time, in order: an answer must be applied before the candidates after it.
    let queue = Promise.resolve();
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      queue = queue.then(async () => {
        if (!isBinary) throw new Error('the LiveKit test server speaks binary protobuf only (a text frame came)');
        await participant.handle(SignalRequest.fromBinary(new Uint8Array(data)));
      }).catch((error: unknown) => reportError(error as Error));
    });
    ws.on('close', () => {
      // The signal connection is the participant's presence: without resume, its end is a leave.
      if (!participant.hasLeft) void joinedRoom.removeParticipant(participant, DisconnectReason.CLIENT_INITIATED, false);
    });
  }

  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const port = (http.address() as AddressInfo).port;

  return {
    url: `ws://127.0.0.1:${port}`,
    apiKey: tokens.apiKey,
    createToken: (tokenOptions) => tokens.mint(tokenOptions),
    createTokenSync: (tokenOptions) => tokens.mintSync(tokenOptions),
    roomNames: () => [...rooms.keys()],
    participants: (roomName) => rooms.get(roomName)?.identities ?? [],
    rtpPacketsFrom(roomName, identity) {
      const participant = rooms.get(roomName)?.participant(identity);
      if (participant === undefined) return 0;
      const counts = rooms.get(roomName)?.rtpPacketsByTrack;
      return participant.publishedTracks().reduce((sum, track) => sum + (counts?.get(track.sid) ?? 0), 0);
    },
    sendSipDtmf(roomName, dtmf) {
      const room = rooms.get(roomName);
      if (room === undefined) throw new Error(`LiveKit test server: no room ${roomName}`);
      return room.sendSipDtmf(dtmf.fromIdentity, dtmf.code, dtmf.digit);
    },
    async removeParticipant(roomName, identity) {
      const room = rooms.get(roomName);
      const participant = room?.participant(identity);
      if (room === undefined || participant === undefined) {
        throw new Error(`LiveKit test server: no participant ${identity} in room ${roomName}`);
      }
      await room.removeParticipant(participant, DisconnectReason.PARTICIPANT_REMOVED);
    },
    async dropParticipant(roomName, identity, dropOptions = {}) {
      const room = rooms.get(roomName);
      const participant = room?.participant(identity);
      if (room === undefined || participant === undefined) {
        throw new Error(`LiveKit test server: no participant ${identity} in room ${roomName}`);
      }
      if (dropOptions.allowRejoin !== true) barred.add(`${roomName}\n${identity}`);
      await room.removeParticipant(participant, DisconnectReason.UNKNOWN_REASON, false);
    },
    async deleteRoom(roomName) {
      const room = rooms.get(roomName);
      if (room === undefined) throw new Error(`LiveKit test server: no room ${roomName}`);
      rooms.delete(roomName);
      await room.close();
    },
    async close() {
      await Promise.allSettled([...rooms.values()].map((room) => room.close()));
      rooms.clear();
      for (const client of wss.clients) client.terminate();
      wss.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

function tokenOf(request: IncomingMessage, url: URL): string | undefined {
  const header = request.headers.authorization;
  if (header?.startsWith('Bearer ') === true) return header.slice('Bearer '.length);
  return url.searchParams.get('access_token') ?? undefined;
}

function refuseHttp(response: ServerResponse, error: unknown): void {
  const status = error instanceof JoinRefused ? error.status : 500;
  response.writeHead(status, { 'content-type': 'text/plain' }).end((error as Error).message);
}

function refuseUpgrade(socket: Socket, status: number, message: string): void {
  const reason = status === 401 ? 'Unauthorized' : status === 403 ? 'Forbidden' : status === 404 ? 'Not Found' : 'Error';
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(message)}\r\nConnection: close\r\n\r\n${message}`);
}
