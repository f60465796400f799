// Vonage's Voice API for the calls our streams serve: hang up and transfer (PUT /v1/calls/{uuid}), authenticated
// with an RS256 JWT of the application (docs/carriers.md, "Vonage").
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { getDefaultLogger, type Logger } from '../../logging/index.js';
import { vonageApplicationJwt } from './jwt.js';

export interface VonageCredentials {
  /** The Vonage application's id. */
  applicationId: string;
  /** The application's private key (PEM): signs our REST requests. Never logged. */
  privateKey: string;
  /** The account's signature secret: Vonage signs its webhooks with it. Never logged. */
  signatureSecret: string;
  /** Default https://api.nexmo.com (a fake's URL in tests). */
  apiBaseUrl?: string;
}

/** A call update Vonage refused. */
export class VonageApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(`Vonage API ${status}: ${message}`);
    this.name = 'VonageApiError';
  }
}

export class VonageCalls {
  private readonly credentials: VonageCredentials;
  private readonly key: KeyObject;
  private readonly logger: Logger;

  constructor(credentials: VonageCredentials, logger?: Logger) {
    if (typeof credentials.applicationId !== 'string' || credentials.applicationId === '') throw new TypeError('Vonage: applicationId is required');
    this.key = createPrivateKey(credentials.privateKey);
    this.credentials = credentials;
    this.logger = logger ?? getDefaultLogger();
  }

  async hangUp(uuid: string): Promise<void> {
    await this.update(uuid, { action: 'hangup' });
  }

  /** Moves the call to an NCCO connecting it to `to` (a number, or a `sip:` URI): the WebSocket leg ends. */
  async transfer(uuid: string, to: string, options: { callerId?: string } = {}): Promise<void> {
    const endpoint = to.startsWith('sip:') ? { type: 'sip', uri: to } : { type: 'phone', number: to.replace(/^\+/, '') };
    const connect = { action: 'connect', endpoint: [endpoint], ...(options.callerId === undefined ? {} : { from: options.callerId.replace(/^\+/, '') }) };
    await this.update(uuid, { action: 'transfer', destination: { type: 'ncco', ncco: [connect] } });
  }

  private async update(uuid: string, body: Record<string, unknown>): Promise<void> {
    if (!/^[0-9a-fA-F-]{16,64}$/.test(uuid)) throw new TypeError(`Vonage: not a call uuid: ${JSON.stringify(uuid).slice(0, 40)}`);
    const base = (this.credentials.apiBaseUrl ?? 'https://api.nexmo.com').replace(/\/+$/, '');
    const response = await fetch(`${base}/v1/calls/${uuid}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${vonageApplicationJwt(this.credentials.applicationId, this.key)}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await response.text();
    if (!response.ok) {
      this.logger.warn({ status: response.status, uuid }, 'Vonage refused a call update');
      let title = text.slice(0, 200);
      try {
        const parsed = (JSON.parse(text) as { title?: unknown; detail?: unknown });
        if (typeof parsed.detail === 'string') title = parsed.detail;
        else if (typeof parsed.title === 'string') title = parsed.title;
      } catch {
        // not JSON: the text as it came
      }
      throw new VonageApiError(response.status, title);
    }
  }
}
