// The dev softphone's audio thread: two AudioWorklet processors.
// - 'pcm-capture': microphone in. Low-pass filters and resamples the context's rate to 16 kHz, and posts one
//   20 ms frame of PCM16 (an ArrayBuffer of Int16 samples) at a time to the page, which sends it to the server.
// - 'pcm-playback': agent audio out. Takes PCM16 chunks at the agent's rate from the page, resamples them to the
//   context's rate and plays them from a small jitter buffer (60 ms filled before playing, again after running dry).
/* global AudioWorkletProcessor, registerProcessor, sampleRate */

/** A windowed-sinc low-pass FIR (Hamming window), cutoff as a fraction of the sample rate. */
function lowpass(cutoff, taps) {
  const h = new Float32Array(taps);
  const mid = (taps - 1) / 2;
  let sum = 0;
  for (let i = 0; i < taps; i++) {
    const x = i - mid;
    const sinc = x === 0 ? 2 * cutoff : Math.sin(2 * Math.PI * cutoff * x) / (Math.PI * x);
    h[i] = sinc * (0.54 - 0.46 * Math.cos((2 * Math.PI * i) / (taps - 1)));
    sum += h[i];
  }
  for (let i = 0; i < taps; i++) h[i] /= sum;
  return h;
}

class PcmCapture extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const opts = (options && options.processorOptions) || {};
    this.targetRate = opts.targetRate || 16000;
    this.frameSamples = opts.frameSamples || 320;
    this.frame = new Int16Array(this.frameSamples);
    this.filled = 0;
    this.step = sampleRate / this.targetRate; // input samples per output sample
    // Below the target's Nyquist frequency (a little under, for the filter's transition band).
    this.taps = this.step > 1 ? lowpass((0.45 * this.targetRate) / sampleRate, 48) : new Float32Array([1]);
    this.history = new Float32Array(this.taps.length);
    this.head = 0;
    this.index = 0; // index of the current input sample
    this.next = 0; // input position of the next output sample
    this.previous = 0; // the previous filtered input sample
  }

  filter(x) {
    const n = this.taps.length;
    this.history[this.head] = x;
    let y = 0;
    let j = this.head;
    for (let i = 0; i < n; i++) {
      y += this.taps[i] * this.history[j];
      j = j === 0 ? n - 1 : j - 1;
    }
    this.head = (this.head + 1) % n;
    return y;
  }

  emit(value) {
    const s = Math.max(-1, Math.min(1, value));
    this.frame[this.filled++] = s < 0 ? Math.round(s * 32768) : Math.round(s * 32767);
    if (this.filled === this.frameSamples) {
      const buffer = this.frame.buffer;
      this.port.postMessage(buffer, [buffer]); // transferred: the frame is detached now
      this.frame = new Int16Array(this.frameSamples);
      this.filled = 0;
    }
  }

  process(inputs) {
    const input = inputs[0];
    if (!input || input.length === 0) return true;
    const channels = input.length;
    const length = input[0].length;
    for (let k = 0; k < length; k++) {
      let x = 0;
      for (let c = 0; c < channels; c++) x += input[c][k];
      const y = this.filter(x / channels);
      // Linear interpolation between the previous and this filtered sample at each output position.
      while (this.next <= this.index) {
        const frac = this.next - (this.index - 1);
        this.emit(this.previous + (y - this.previous) * frac);
        this.next += this.step;
      }
      this.previous = y;
      this.index++;
      if (this.index > 1e6) {
        this.index -= 1e6;
        this.next -= 1e6;
      }
    }
    return true;
  }
}

class PcmPlayback extends AudioWorkletProcessor {
  constructor() {
    super();
    this.chunks = []; // Float32Arrays at the context's rate
    this.offset = 0; // read position in chunks[0]
    this.buffered = 0; // unread samples
    this.playing = false;
    this.prebuffer = Math.round(sampleRate * 0.06);
    this.maxBuffered = sampleRate * 2;
    this.inRate = 0;
    this.last = 0; // the last input sample of the previous chunk
    this.phase = 0; // input position of the next output sample, relative to `last`
    this.played = 0;
    this.port.onmessage = (event) => {
      const message = event.data;
      if (message.type === 'audio') this.push(new Int16Array(message.pcm), message.sampleRate);
      else if (message.type === 'clear') this.clear();
    };
  }

  clear() {
    this.chunks = [];
    this.offset = 0;
    this.buffered = 0;
    this.playing = false;
  }

  push(pcm, rate) {
    if (rate !== this.inRate) {
      this.inRate = rate;
      this.last = 0;
      this.phase = 0;
    }
    const step = rate / sampleRate;
    const count = Math.max(0, Math.ceil((pcm.length - this.phase) / step));
    const out = new Float32Array(count);
    let p = this.phase;
    let n = 0;
    // Positions run over [last, pcm[0], pcm[1], ...]: position 0 is `last`.
    while (p < pcm.length && n < count) {
      const i = Math.floor(p);
      const a = i === 0 ? this.last : pcm[i - 1] / 32768;
      const b = pcm[i] / 32768;
      out[n++] = a + (b - a) * (p - i);
      p += step;
    }
    this.phase = p - pcm.length;
    if (pcm.length > 0) this.last = pcm[pcm.length - 1] / 32768;
    const chunk = n === count ? out : out.subarray(0, n);
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    // Never fall more than two seconds behind the agent.
    while (this.buffered > this.maxBuffered && this.chunks.length > 1) {
      const dropped = this.chunks.shift();
      this.buffered -= dropped.length - this.offset;
      this.offset = 0;
    }
  }

  process(_inputs, outputs) {
    const out = outputs[0][0];
    if (!out) return true;
    if (!this.playing && this.buffered >= this.prebuffer) this.playing = true;
    let k = 0;
    if (this.playing) {
      while (k < out.length && this.chunks.length > 0) {
        const chunk = this.chunks[0];
        const n = Math.min(out.length - k, chunk.length - this.offset);
        out.set(chunk.subarray(this.offset, this.offset + n), k);
        k += n;
        this.offset += n;
        this.buffered -= n;
        if (this.offset >= chunk.length) {
          this.chunks.shift();
          this.offset = 0;
        }
      }
      this.played += k;
      if (this.chunks.length === 0) this.playing = false; // ran dry: fill the jitter buffer again
    }
    out.fill(0, k);
    for (let c = 1; c < outputs[0].length; c++) outputs[0][c].set(out);
    return true;
  }
}

registerProcessor('pcm-capture', PcmCapture);
registerProcessor('pcm-playback', PcmPlayback);
