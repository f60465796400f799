// The Agent's invite-source seam, in one process: what a worker's IPC source relies on — whether an invite started
// a call, the end of each call, a cancel, a call ended as failed, and no invites once draining.
import { describe, expect, it } from 'vitest';
import { Agent } from '../../src/agent/agent.js';
import type { InviteHandlers, InviteSource } from '../../src/agent/invite-source.js';
import { CallFailedError, type CallSession } from '../../src/transports/base/call-session.js';
import { MemoryTransport } from '../../src/transports/memory/index.js';

class FakeSource implements InviteSource {
  handlers: InviteHandlers | undefined;
  closed = false;
  readonly ended: string[] = [];
  get connected(): boolean {
    return this.handlers !== undefined && !this.closed;
  }
  open(handlers: InviteHandlers): Promise<void> {
    this.handlers = handlers;
    return Promise.resolve();
  }
  close(): void {
    this.closed = true;
  }
  callEnded(roomName: string): void {
    this.ended.push(roomName);
  }
  invite(room: string): boolean {
    return this.handlers!.onInvite({ room_name: room, token: 't', url: 'ws://127.0.0.1:1' });
  }
}

function until(predicate: () => boolean): Promise<void> {
  return new Promise((done) => {
    const poll = (): void => (predicate() ? done() : void setTimeout(poll, 5));
    poll();
  });
}

describe('Agent with an InviteSource', () => {
  it('runs the calls a source delivers, tells it each end, cancels and fails calls, and refuses invites once draining', async () => {
    const source = new FakeSource();
    const reasons = new Map<string, unknown>();
    const agent = new Agent({
      agentId: 'a',
      agentToken: 't',
      inviteSource: source,
      prewarmVAD: false,
      handleSignals: false,
      tracing: false,
      operations: false,
      transportFactory: () => new MemoryTransport(),
      createSession: (call: CallSession) =>
        new Promise<void>((done) =>
          call.signal.addEventListener('abort', () => {
            reasons.set(call.roomName, call.signal.reason);
            done();
          }),
        ),
    });
    await agent.connect();
    expect(agent.connected).toBe(true);
    expect(source.invite('room-1')).toBe(true);
    expect(source.invite('room-1')).toBe(false); // already in progress
    expect(source.invite('room-2')).toBe(true);
    expect(source.handlers!.onInvite({ room_name: 'bad' })).toBe(false);
    expect(agent.activeSessions).toBe(2);

    source.handlers!.onCancel({ room_name: 'room-1' });
    source.handlers!.onFail('room-2', 'worker over its memory limit');
    await until(() => agent.activeSessions === 0);
    expect(source.ended.sort()).toEqual(['room-1', 'room-2']);
    expect(reasons.get('room-2')).toBeInstanceOf(CallFailedError);
    expect(reasons.get('room-1')).not.toBeInstanceOf(CallFailedError);

    await agent.shutdown({ drainMs: 0 });
    expect(source.closed).toBe(true);
    expect(source.invite('room-3')).toBe(false);
  });
});
