export * from './livekit-transport.js';
export { rtcNodeRoomDriver } from './rtc-node-driver.js';
