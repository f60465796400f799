// Two real @livekit/rtc-node participants in one test-server room: audio both ways, data, SIP DTMF, leave, room close.
import { afterEach, describe, expect, it } from 'vitest';
import { DisconnectReason } from '@livekit/rtc-node';
import { AccessToken } from 'livekit-server-sdk';
import { startLiveKitTestServer, type LiveKitTestServer } from '../../../src/testing/livekit-server/index.js';
import { RtcTestParticipant } from '../../../src/testing/livekit-server/rtc-participant.js';
import { medianToneSnrDb, sineTone, steadyWindow, toneSnrDb } from '../../../src/testing/livekit-server/tone.js';
import { until } from './until.js';

let server: LiveKitTestServer | undefined;
const participants: RtcTestParticipant[] = [];
afterEach(async () => {
  await Promise.allSettled(participants.splice(0).map((p) => p.leave()));
  await server?.close();
  server = undefined;
});

async function join(identity: string, roomName = 'room-1'): Promise<RtcTestParticipant> {
  const token = await server!.createToken({ identity, roomName });
  const participant = await RtcTestParticipant.join(server!.url, token);
  participants.push(participant);
  return participant;
}

describe('two rtc-node participants in a test-server room', () => {
  it('each hears the other’s tone after Opus, and data and SIP DTMF reach the other', async () => {
    const errors: Error[] = [];
    server = await startLiveKitTestServer({ onProtocolError: (error) => errors.push(error) });
    const alice = await join('alice');
    const bob = await join('bob');
    await until(() => alice.remoteIdentities.has('bob'), 5000, 'alice to see bob');
    expect([...bob.remoteIdentities]).toEqual(['alice']);

    await Promise.all([alice.publish(), bob.publish()]);
    await until(() => alice.heardSamples('bob').length > 0 && bob.heardSamples('alice').length > 0, 10_000, 'media');
    await Promise.all([alice.play(sineTone(440, 48000, 48000)), bob.play(sineTone(660, 48000, 48000))]);
    const heardTone = (p: RtcTestParticipant, from: string): boolean => steadyWindow(p.heardSamples(from), 48000, 100, 500) !== undefined;
    await until(() => heardTone(alice, 'bob') && heardTone(bob, 'alice'), 5000, 'the tones');
    const atBob = steadyWindow(bob.heardSamples('alice'), 48000, 100, 500);
    const atAlice = steadyWindow(alice.heardSamples('bob'), 48000, 100, 500);
    expect(atBob).toBeDefined();
    expect(atAlice).toBeDefined();
    const snrAtBob = medianToneSnrDb(atBob!, 440, 48000);
    const snrAtAlice = medianToneSnrDb(atAlice!, 660, 48000);
    console.log(`440 Hz at bob: ${snrAtBob.toFixed(1)} dB SNR (median of 100 ms blocks; whole window ${toneSnrDb(atBob!, 440, 48000).toFixed(1)} dB); 660 Hz at alice: ${snrAtAlice.toFixed(1)} dB`);
    expect(snrAtBob).toBeGreaterThan(15);
    expect(snrAtAlice).toBeGreaterThan(15);
    // Each hears the other's tone, not its own: the 660 Hz fit explains little of what bob hears.
    expect(medianToneSnrDb(atBob!, 660, 48000)).toBeLessThan(0);

    await alice.publishData('{"hello":"bob"}');
    await until(() => bob.data.length === 1, 5000, 'the data packet');
    expect(new TextDecoder().decode(bob.data[0]!.payload)).toBe('{"hello":"bob"}');
    expect(bob.data[0]!.from).toBe('alice');

    // The SIP bridge's way: a sipDtmf DataPacket from the SIP participant.
    expect(server.sendSipDtmf('room-1', { fromIdentity: 'bob', code: 5, digit: '5' })).toBe(1);
    await until(() => alice.dtmf.length === 1, 5000, 'the DTMF packet');
    expect(alice.dtmf[0]).toEqual({ code: 5, digit: '5', from: 'bob' });
    // A participant pressing a key (rtc-node's publishDtmf) reaches the other the same way.
    await alice.room.localParticipant!.publishDtmf(11, '#');
    await until(() => bob.dtmf.length === 1, 5000, 'the published DTMF');
    expect(bob.dtmf[0]).toEqual({ code: 11, digit: '#', from: 'alice' });
    expect(errors).toEqual([]);
  }, 20_000);

  it('a leave ends the other’s view of the participant; deleting the room disconnects everyone', async () => {
    server = await startLiveKitTestServer();
    const alice = await join('alice');
    const bob = await join('bob');
    const carol = await join('carol');
    await until(() => alice.remoteIdentities.size === 2, 5000, 'alice to see both');
    await bob.leave();
    await until(() => alice.left.includes('bob') && carol.left.includes('bob'), 5000, 'bob to leave');
    expect(server.participants('room-1').sort()).toEqual(['alice', 'carol']);

    await server.deleteRoom('room-1');
    await until(() => alice.disconnectReason !== undefined && carol.disconnectReason !== undefined, 5000, 'the disconnects');
    expect(alice.disconnectReason).toBe(String(DisconnectReason.ROOM_DELETED));
    expect(carol.disconnectReason).toBe(String(DisconnectReason.ROOM_DELETED));
    expect(server.roomNames()).toEqual([]);
  }, 20_000);

  it('refuses a token signed with another secret (401) and one without a room grant (403)', async () => {
    const refusals: string[] = [];
    server = await startLiveKitTestServer({ onProtocolError: (error) => refusals.push(error.message) });
    const forged = new AccessToken(server.apiKey, 'another-secret-another-secret-00', { identity: 'mallory' });
    forged.addGrant({ roomJoin: true, room: 'room-1' });
    await expect(RtcTestParticipant.join(server.url, await forged.toJwt())).rejects.toThrow();
    const roomless = new AccessToken(server.apiKey, 'piopiy-ai-livekit-test-server-secret', { identity: 'mallory' });
    roomless.addGrant({ roomJoin: true });
    await expect(RtcTestParticipant.join(server.url, await roomless.toJwt())).rejects.toThrow();
    expect(server.roomNames()).toEqual([]);
    expect(refusals.some((message) => message.startsWith('invalid access token'))).toBe(true);
    expect(refusals).toContain('the token names no room');
  }, 20_000);
});
