// Plivo's REST API for the calls our streams serve: hang up (DELETE the call) and transfer (the call's A leg to a
// URL whose XML dials the human; docs/carriers.md, "Plivo").
import { getDefaultLogger, type Logger } from '../../logging/index.js';

export interface PlivoCredentials {
  /** The account's Auth ID (MA... or SA...). */
  authId: string;
  /** The account's Auth Token: signs Plivo's requests and authenticates ours. Never logged. */
  authToken: string;
  /** Default https://api.plivo.com (a fake's URL in tests). */
  apiBaseUrl?: string;
}

/** A REST request Plivo refused. */
export class PlivoApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(`Plivo API ${status}: ${message}`);
    this.name = 'PlivoApiError';
  }
}

export class PlivoCalls {
  private readonly credentials: PlivoCredentials;
  private readonly logger: Logger;

  constructor(credentials: PlivoCredentials, logger?: Logger) {
    if (!/^[MS]A[0-9A-Z]{8,}$/.test(credentials.authId ?? '')) throw new TypeError('Plivo: authId must be an Auth ID (MA... or SA...)');
    if (typeof credentials.authToken !== 'string' || credentials.authToken === '') throw new TypeError('Plivo: authToken is required');
    this.credentials = credentials;
    this.logger = logger ?? getDefaultLogger();
  }

  /** Ends the call. */
  async hangUp(callUuid: string): Promise<void> {
    await this.request('DELETE', callUuid);
  }

  /** Moves the call (its A leg) to the XML at `xmlUrl` (POSTed to, signed): the stream ends and that XML runs. */
  async transfer(callUuid: string, xmlUrl: string): Promise<void> {
    await this.request('POST', callUuid, { legs: 'aleg', aleg_url: xmlUrl, aleg_method: 'POST' });
  }

  private async request(method: 'DELETE' | 'POST', callUuid: string, body?: Record<string, string>): Promise<void> {
    if (!/^[0-9a-fA-F-]{16,64}$/.test(callUuid)) throw new TypeError(`Plivo: not a call UUID: ${JSON.stringify(callUuid).slice(0, 40)}`);
    const { authId, authToken } = this.credentials;
    const base = (this.credentials.apiBaseUrl ?? 'https://api.plivo.com').replace(/\/+$/, '');
    const response = await fetch(`${base}/v1/Account/${authId}/Call/${callUuid}/`, {
      method,
      headers: {
        authorization: `Basic ${Buffer.from(`${authId}:${authToken}`).toString('base64')}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await response.text();
    if (!response.ok) {
      let error: string = text.slice(0, 200);
      try {
        const message = (JSON.parse(text) as { error?: unknown }).error;
        if (typeof message === 'string') error = message;
      } catch {
        // not JSON: the text as it came
      }
      this.logger.warn({ status: response.status, callUuid }, `Plivo refused a call ${method === 'DELETE' ? 'hang-up' : 'transfer'}`);
      throw new PlivoApiError(response.status, error);
    }
  }
}
