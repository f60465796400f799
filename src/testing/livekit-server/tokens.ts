// Access tokens of the test server: LiveKit JWTs (HS256 with the server's API key and secret), minted and checked
// with livekit-server-sdk, as a LiveKit server checks the `access_token` a client joins with.
import { createHmac } from 'node:crypto';
import { AccessToken, TokenVerifier } from 'livekit-server-sdk';

/** Who a verified token lets in, and where. */
export interface JoinGrant {
  identity: string;
  name: string;
  roomName: string;
  canPublish: boolean;
  canSubscribe: boolean;
  canPublishData: boolean;
}

/** A join the server refuses: `status` is the HTTP status of the WebSocket upgrade, as LiveKit answers it. */
export class JoinRefused extends Error {
  constructor(
    readonly status: 401 | 403 | 404,
    message: string,
  ) {
    super(message);
    this.name = 'JoinRefused';
  }
}

export interface TokenOptions {
  identity: string;
  roomName: string;
  name?: string;
  /** Default 1 hour. */
  ttlSecs?: number;
  canPublish?: boolean;
  canSubscribe?: boolean;
}

export class TestServerTokens {
  private readonly verifier: TokenVerifier;

  constructor(
    readonly apiKey: string,
    private readonly apiSecret: string,
  ) {
    this.verifier = new TokenVerifier(apiKey, apiSecret);
  }

  async mint(options: TokenOptions): Promise<string> {
    const token = new AccessToken(this.apiKey, this.apiSecret, {
      identity: options.identity,
      name: options.name,
      ttl: options.ttlSecs ?? 3600,
    });
    token.addGrant({
      roomJoin: true,
      room: options.roomName,
      canPublish: options.canPublish ?? true,
      canSubscribe: options.canSubscribe ?? true,
      canPublishData: true,
    });
    return token.toJwt();
  }

  /**
   * The same token as `mint`, made synchronously (HS256 with node:crypto), for code that cannot wait: the
   * simulator's invite is built in one go. The claims are LiveKit's: `iss` the API key, `sub` the identity, `video`.
   */
  mintSync(options: TokenOptions): string {
    const nowSecs = Math.floor(Date.now() / 1000);
    const claims = {
      iss: this.apiKey,
      sub: options.identity,
      nbf: nowSecs - 10,
      exp: nowSecs + (options.ttlSecs ?? 3600),
      ...(options.name === undefined ? {} : { name: options.name }),
      video: {
        roomJoin: true,
        room: options.roomName,
        canPublish: options.canPublish ?? true,
        canSubscribe: options.canSubscribe ?? true,
        canPublishData: true,
      },
    };
    const encode = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
    const unsigned = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode(claims)}`;
    return `${unsigned}.${createHmac('sha256', this.apiSecret).update(unsigned).digest('base64url')}`;
  }

  /** Checks signature, expiry and the join grant; throws `JoinRefused` (401 bad token, 403 no join grant). */
  async verify(token: string | undefined): Promise<JoinGrant> {
    if (token === undefined || token === '') throw new JoinRefused(401, 'no access token');
    let claims: Awaited<ReturnType<TokenVerifier['verify']>>;
    try {
      claims = await this.verifier.verify(token);
    } catch (error) {
      throw new JoinRefused(401, `invalid access token: ${(error as Error).message}`);
    }
    const video = claims.video;
    if (video?.roomJoin !== true) throw new JoinRefused(403, 'the token has no roomJoin grant');
    if (video.room === undefined || video.room === '') throw new JoinRefused(403, 'the token names no room');
    if (claims.sub === undefined || claims.sub === '') throw new JoinRefused(403, 'the token names no identity');
    return {
      identity: claims.sub,
      name: claims.name ?? '',
      roomName: video.room,
      // LiveKit's defaults: a grant that does not say otherwise allows publishing and subscribing.
      canPublish: video.canPublish ?? true,
      canSubscribe: video.canSubscribe ?? true,
      canPublishData: video.canPublishData ?? true,
    };
  }
}
