// The dev softphone page: one WebSocket to `piopiy-ai dev`, which bridges it to a call on the local Piopiy
// simulator. Microphone -> AudioWorklet ('pcm-capture', 16 kHz PCM16, 20 ms frames) -> socket; agent PCM16 from
// the socket -> AudioWorklet ('pcm-playback'). Everything else arrives as JSON events and is shown as it happens,
// in the order it happened: each call event carries `t` (when it happened) and `seq` (the server's order), and the
// lists are kept sorted by both (a tool call is reported when it returns, after the REST request it made).
// No framework, no build step. `window.piopiyDev` exposes counters and what is shown, for tests.
/* global window, document, location, navigator, WebSocket, AudioContext, AudioWorkletNode, URL, URLSearchParams, setTimeout, setInterval, clearInterval, performance, console */

const $ = (id) => document.getElementById(id);
const el = {
  agentName: $('agent-name'),
  agentState: $('agent-state'),
  callState: $('call-state'),
  timer: $('call-timer'),
  call: $('call'),
  hangup: $('hangup'),
  mute: $('mute'),
  processing: $('processing'),
  micLevel: $('mic-level'),
  agentLevel: $('agent-level'),
  notice: $('notice'),
  transcript: $('transcript'),
  speaking: $('speaking'),
  events: $('events'),
  latency: $('latency'),
};

const dev = {
  stats: { wsOpen: false, micFrames: 0, agentFrames: 0, agentSpeechFrames: 0, agentFramesPlayed: 0 },
  agentState: 'connecting',
  callState: 'idle',
  callId: null,
  transcript: [],
  events: [],
  latency: [],
  errors: [],
};
window.piopiyDev = dev;

let socket = null;
let callerRate = 16000;
let frameMs = 20;
let agentRate = 8000;
let starting = false;
let answeredAt = 0;
let timerHandle = null;
let pendingLatency = null;
let currentRow = null;
/** The transcript's "call ended" line, once there is one. */
let endLine = null;
const speaking = { user: false, agent: false };

// ---------------------------------------------------------------- the socket

function connect() {
  const url = new URL('ws', location.href);
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const token = new URLSearchParams(location.search).get('token');
  if (token) url.searchParams.set('token', token);
  socket = new WebSocket(url);
  socket.binaryType = 'arraybuffer';
  socket.onopen = () => {
    dev.stats.wsOpen = true;
    render();
  };
  socket.onclose = () => {
    dev.stats.wsOpen = false;
    if (dev.callState === 'ringing' || dev.callState === 'answered') callEnded('connection to piopiy-ai dev lost', 'lost');
    dev.agentState = 'connecting';
    render();
    setTimeout(connect, 1000);
  };
  socket.onmessage = (event) => {
    if (typeof event.data === 'string') onEvent(JSON.parse(event.data));
    else onAgentAudio(event.data);
  };
}

function send(message) {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
}

// ---------------------------------------------------------------- audio

let ctx = null;
let playback = null;
let capture = null;
let micStream = null;

async function startPlayback() {
  if (ctx === null) {
    ctx = new AudioContext({ latencyHint: 'interactive' });
    await ctx.audioWorklet.addModule('audio-worklet.js');
    playback = new AudioWorkletNode(ctx, 'pcm-playback', { numberOfInputs: 0, numberOfOutputs: 1, outputChannelCount: [1] });
    playback.connect(ctx.destination);
  }
  await ctx.resume();
}

async function startMicrophone() {
  if (!window.isSecureContext || !navigator.mediaDevices) {
    throw new Error('the browser allows the microphone on secure pages only: open the page as http://127.0.0.1 or http://localhost (an SSH tunnel works)');
  }
  const processing = el.processing.checked;
  micStream = await navigator.mediaDevices.getUserMedia({
    audio: { channelCount: 1, echoCancellation: processing, noiseSuppression: processing, autoGainControl: processing },
  });
  const source = ctx.createMediaStreamSource(micStream);
  capture = new AudioWorkletNode(ctx, 'pcm-capture', {
    numberOfInputs: 1,
    numberOfOutputs: 1,
    outputChannelCount: [1],
    processorOptions: { targetRate: callerRate, frameSamples: Math.round((callerRate * frameMs) / 1000) },
  });
  capture.port.onmessage = (event) => onMicFrame(event.data);
  // A node is only processed while connected towards the destination: through a muted gain.
  const sink = ctx.createGain();
  sink.gain.value = 0;
  source.connect(capture).connect(sink).connect(ctx.destination);
}

function stopMicrophone() {
  if (capture) capture.port.onmessage = null;
  capture = null;
  if (micStream) for (const track of micStream.getTracks()) track.stop();
  micStream = null;
  setLevel(el.micLevel, 0);
}

function level(pcm) {
  let sum = 0;
  for (let i = 0; i < pcm.length; i++) sum += pcm[i] * pcm[i];
  return pcm.length === 0 ? 0 : Math.sqrt(sum / pcm.length);
}

function setLevel(bar, rms) {
  // -60 dBFS .. 0 dBFS over the bar.
  const db = rms > 0 ? 20 * Math.log10(rms / 32768) : -60;
  bar.style.width = `${Math.max(0, Math.min(100, ((db + 60) / 60) * 100)).toFixed(0)}%`;
}

function onMicFrame(buffer) {
  const pcm = new Int16Array(buffer);
  setLevel(el.micLevel, el.mute.checked ? 0 : level(pcm));
  if (dev.callState !== 'answered' || el.mute.checked) return;
  if (socket && socket.readyState === WebSocket.OPEN) {
    socket.send(buffer);
    dev.stats.micFrames++;
  }
}

function onAgentAudio(buffer) {
  const pcm = new Int16Array(buffer);
  dev.stats.agentFrames++;
  let peak = 0;
  for (let i = 0; i < pcm.length; i++) peak = Math.max(peak, Math.abs(pcm[i]));
  if (peak > 500) dev.stats.agentSpeechFrames++;
  setLevel(el.agentLevel, level(pcm));
  if (playback) {
    playback.port.postMessage({ type: 'audio', pcm: buffer, sampleRate: agentRate }, [buffer]);
    dev.stats.agentFramesPlayed++;
  }
}

// ---------------------------------------------------------------- events from the server

function onEvent(message) {
  switch (message.type) {
    case 'hello':
      el.agentName.textContent = message.agent ?? '(none)';
      dev.agentState = message.agentState;
      callerRate = message.callerSampleRate;
      frameMs = message.frameMs;
      break;
    case 'agent':
      dev.agentState = message.state;
      if (message.message) notice(message.message);
      break;
    case 'state':
      onCallState(message);
      break;
    case 'format':
      agentRate = message.sampleRate;
      break;
    case 'transcript':
      addTurn(message);
      break;
    case 'tool':
      addEvent(message, 'tool', `${message.name}(${compact(message.arguments)})`, message.error ? `error: ${message.error}` : compact(message.result, 2), !!message.error);
      break;
    case 'rest':
      addEvent(message, 'rest', `${message.method} ${message.path}`, compact(message.body, 2), message.status !== undefined && message.status >= 400, message.status);
      break;
    case 'metrics':
      for (const data of [].concat(message.data)) if (data.kind === 'ttfb') addTtfb(data.processor, data.valueMs);
      break;
    case 'speaking':
      onSpeaking(message);
      break;
    case 'agent-error':
      addEvent(message, 'error', message.fatal ? 'agent error (fatal)' : 'agent error', message.message, true);
      break;
    case 'error':
      notice(message.message);
      dev.errors.push(message.message);
      if (dev.callState === 'idle' || dev.callState === 'ended') starting = false;
      break;
  }
  render();
}

function onCallState(message) {
  dev.callId = message.callId;
  if (message.state === 'ringing') {
    dev.callState = 'ringing';
  } else if (message.state === 'answered') {
    dev.callState = 'answered';
    starting = false;
    answeredAt = performance.now();
    timerHandle = setInterval(renderTimer, 250);
    addSystem(`call ${message.callId.slice(0, 8)} answered`);
    newLatencyRow('greeting');
  } else if (message.state === 'ended') {
    // A transfer is the call succeeding (the caller now talks to a person), not an error.
    if (message.transferredTo) callEnded(`transferred to ${message.transferredTo}`, 'transferred');
    else callEnded(describeEnd(message.reason), 'ended');
  }
}

function describeEnd(reason) {
  return (
    { 'caller-hangup': 'you hung up', 'agent-left': 'the agent left the call', hangup: 'the agent hung up', transferred: 'transferred', cancelled: 'cancelled' }[reason] ??
    reason ??
    'ended'
  );
}

/** `how`: 'ended' (neutral), 'transferred' (a success) or 'lost' (the page lost the server: an error). */
function callEnded(reason, how) {
  dev.callState = 'ended';
  dev.endReason = reason;
  dev.endState = how;
  starting = false;
  if (timerHandle !== null) clearInterval(timerHandle);
  timerHandle = null;
  endLine = addSystem(`call ended: ${reason}`);
  stopMicrophone();
  setSpeaking('user', false);
  setSpeaking('agent', false);
}

function onSpeaking(message) {
  setSpeaking(message.who, message.speaking);
  if (message.who === 'user' && message.speaking) newLatencyRow(`turn ${dev.latency.length}`);
  if (message.who === 'agent' && message.speaking && message.latencyMs !== undefined) {
    pendingLatency = message.latencyMs;
    if (currentRow) {
      currentRow.voiceToVoiceMs = message.latencyMs;
      renderLatency();
    }
  }
}

function setSpeaking(who, value) {
  speaking[who] = value;
  const parts = [];
  if (speaking.user) parts.push('you are speaking …');
  if (speaking.agent) parts.push('the agent is speaking …');
  el.speaking.textContent = parts.join('  ');
  if (who === 'agent' && !value) setLevel(el.agentLevel, 0);
}

// ---------------------------------------------------------------- the views

function stamp(t) {
  const m = Math.floor(t / 60);
  const s = (t - m * 60).toFixed(1).padStart(4, '0');
  return `${m}:${s}`;
}

function compact(value, indent) {
  if (value === undefined) return '';
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value, null, indent);
  } catch {
    return String(value);
  }
}

/** The list row of each transcript turn and event (kept out of the items, which tests read). */
const rows = new WeakMap();

/**
 * Inserts `item` (stamped with `t` and `seq`) into `items` and its row `li` into `list`, after every item not later
 * than it: events that arrive late still show where they happened. System lines in `list` keep their place.
 */
function insertSorted(list, items, item, li) {
  let index = items.length;
  while (index > 0 && (items[index - 1].t > item.t || (items[index - 1].t === item.t && items[index - 1].seq > item.seq))) index--;
  const next = items[index];
  items.splice(index, 0, item);
  rows.set(item, li);
  if (next) list.insertBefore(li, rows.get(next));
  // The agent reports what the caller heard of its last words once the call is over: they belong before the end.
  else if (endLine !== null && endLine.parentNode === list) list.insertBefore(li, endLine);
  else list.append(li);
}

function addTurn(message) {
  // The agent's transcript of the caller (what it heard), and what the caller heard of the agent.
  const text = message.role === 'user' ? message.heard : message.text;
  const li = document.createElement('li');
  li.className = message.role + (message.interrupted ? ' interrupted' : '');
  const who = document.createElement('span');
  who.className = 'who';
  who.textContent = `${message.role === 'user' ? 'you, as the agent heard you' : 'agent'} · ${stamp(message.t)}`;
  if (message.role === 'assistant' && pendingLatency !== null) {
    const badge = document.createElement('span');
    badge.className = 'badge';
    badge.textContent = `replied in ${pendingLatency} ms`;
    who.append(badge);
    pendingLatency = null;
  }
  li.append(who, document.createTextNode(text + (message.interrupted ? ' (interrupted)' : '')));
  insertSorted(el.transcript, dev.transcript, { role: message.role, text, interrupted: !!message.interrupted, t: message.t, seq: message.seq }, li);
  li.scrollIntoView({ block: 'nearest' });
}

function addSystem(text) {
  const li = document.createElement('li');
  li.className = 'system';
  li.textContent = text;
  el.transcript.append(li);
  return li;
}

function addEvent(message, kind, head, detail, bad, status) {
  const t = message.t;
  const li = document.createElement('li');
  li.className = kind;
  const line = document.createElement('div');
  line.className = 'head';
  const time = document.createElement('span');
  time.className = 'time';
  time.textContent = stamp(t);
  line.append(time, document.createTextNode(`${kind === 'rest' ? 'REST ' : kind === 'tool' ? 'tool ' : ''}${head}`));
  if (status !== undefined) {
    const code = document.createElement('span');
    code.className = bad ? 'status-bad' : 'status-ok';
    code.textContent = ` → ${status}`;
    line.append(code);
  }
  li.append(line);
  if (detail) {
    const pre = document.createElement('pre');
    pre.textContent = detail;
    li.append(pre);
  }
  insertSorted(el.events, dev.events, { kind, t, seq: message.seq, head, detail, status }, li);
  li.scrollIntoView({ block: 'nearest' });
}

function newLatencyRow(label) {
  currentRow = { label, voiceToVoiceMs: null, ttfb: {} };
  dev.latency.push(currentRow);
  renderLatency();
}

function addTtfb(processor, ms) {
  if (!currentRow) return;
  const name = String(processor).replace(/#\d+$/, '');
  if (currentRow.ttfb[name] === undefined) currentRow.ttfb[name] = Math.round(ms);
  renderLatency();
}

function renderLatency() {
  el.latency.replaceChildren(
    ...dev.latency.map((row) => {
      const tr = document.createElement('tr');
      const cells = [
        row.label,
        row.voiceToVoiceMs === null ? '–' : `${row.voiceToVoiceMs} ms`,
        Object.entries(row.ttfb)
          .map(([name, ms]) => `${name} ${ms} ms`)
          .join(', ') || '–',
      ];
      for (const [i, text] of cells.entries()) {
        const td = document.createElement('td');
        td.textContent = text;
        if (i === 1) td.className = 'num';
        tr.append(td);
      }
      return tr;
    }),
  );
}

function renderTimer() {
  const secs = Math.floor((performance.now() - answeredAt) / 1000);
  el.timer.textContent = `${Math.floor(secs / 60)}:${String(secs % 60).padStart(2, '0')}`;
}

function notice(text) {
  el.notice.textContent = text;
  el.notice.hidden = false;
}

function render() {
  const open = dev.stats.wsOpen;
  el.agentState.textContent = open ? dev.agentState : 'disconnected';
  el.agentState.dataset.state = open ? dev.agentState : 'failed';
  const label = { idle: 'idle', ringing: 'ringing …', answered: 'in call', ended: 'call ended' }[dev.callState];
  const ended = dev.callState === 'ended';
  if (ended && dev.endState === 'transferred') el.callState.textContent = dev.endReason;
  else el.callState.textContent = ended && dev.endReason ? `call ended · ${dev.endReason}` : label;
  el.callState.dataset.state = ended ? dev.endState ?? 'ended' : dev.callState;
  const inCall = dev.callState === 'ringing' || dev.callState === 'answered';
  el.call.disabled = !open || dev.agentState !== 'ready' || inCall || starting;
  el.hangup.disabled = !inCall;
}

// ---------------------------------------------------------------- the buttons

el.call.addEventListener('click', async () => {
  starting = true;
  el.notice.hidden = true;
  el.transcript.replaceChildren();
  endLine = null;
  el.events.replaceChildren();
  dev.transcript = [];
  dev.events = [];
  dev.latency = [];
  currentRow = null;
  pendingLatency = null;
  renderLatency();
  render();
  try {
    await startPlayback();
    await startMicrophone();
  } catch (error) {
    console.warn(error);
    notice(`No microphone: ${error.message}. The call goes on; you can listen to the agent.`);
    dev.errors.push(String(error.message));
  }
  send({ type: 'call' });
});

el.hangup.addEventListener('click', () => send({ type: 'hangup' }));

render();
connect();
