// Telnyx's Call Control API for the calls our streams serve (docs/carriers.md, "Telnyx"): answer with a stream,
// hang up, transfer. Each is a POST to /v2/calls/{call_control_id}/actions/{action} with the API key as a Bearer.
import { getDefaultLogger, type Logger } from '../../logging/index.js';

export interface TelnyxCredentials {
  /** The API key (KEY...): authenticates our requests. Never logged. */
  apiKey: string;
  /** Default https://api.telnyx.com (a fake's URL in tests). */
  apiBaseUrl?: string;
}

/** A Call Control command Telnyx refused. */
export class TelnyxApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    message: string,
  ) {
    super(`Telnyx API ${status}${code === undefined ? '' : ` (${code})`}: ${message}`);
    this.name = 'TelnyxApiError';
  }
}

export class TelnyxCalls {
  private readonly credentials: TelnyxCredentials;
  private readonly logger: Logger;

  constructor(credentials: TelnyxCredentials, logger?: Logger) {
    if (typeof credentials.apiKey !== 'string' || credentials.apiKey === '') throw new TypeError('Telnyx: apiKey is required');
    this.credentials = credentials;
    this.logger = logger ?? getDefaultLogger();
  }

  /** Answers the call with a bidirectional stream to `streamUrl` (PCMU both ways, the caller's track). */
  async answerWithStream(callControlId: string, streamUrl: string): Promise<void> {
    await this.action(callControlId, 'answer', {
      stream_url: streamUrl,
      stream_track: 'inbound_track',
      stream_bidirectional_mode: 'rtp',
      stream_bidirectional_codec: 'PCMU',
    });
  }

  async hangUp(callControlId: string): Promise<void> {
    await this.action(callControlId, 'hangup', {});
  }

  /** Transfers the call to `to` (a number or `sip:` URI): the stream stops and the caller is connected to `to`. */
  async transfer(callControlId: string, to: string, options: { callerId?: string } = {}): Promise<void> {
    await this.action(callControlId, 'transfer', { to, ...(options.callerId === undefined ? {} : { from: options.callerId }) });
  }

  private async action(callControlId: string, action: string, body: Record<string, string>): Promise<void> {
    if (!/^[\w:.-]{8,200}$/.test(callControlId)) throw new TypeError(`Telnyx: not a call control id: ${JSON.stringify(callControlId).slice(0, 40)}`);
    const base = (this.credentials.apiBaseUrl ?? 'https://api.telnyx.com').replace(/\/+$/, '');
    const response = await fetch(`${base}/v2/calls/${encodeURIComponent(callControlId)}/actions/${action}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.credentials.apiKey}`, 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await response.text();
    if (!response.ok) {
      let error: { code?: unknown; title?: unknown; detail?: unknown } | undefined;
      try {
        error = (JSON.parse(text) as { errors?: { code?: unknown; title?: unknown; detail?: unknown }[] }).errors?.[0];
      } catch {
        error = undefined;
      }
      this.logger.warn({ status: response.status, action }, 'Telnyx refused a call command');
      const message = typeof error?.detail === 'string' ? error.detail : typeof error?.title === 'string' ? error.title : text.slice(0, 200);
      throw new TelnyxApiError(response.status, typeof error?.code === 'string' ? error.code : undefined, message);
    }
  }
}
