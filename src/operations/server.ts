// The operations HTTP endpoints: /healthz (liveness), /readyz (readiness), /metrics (Prometheus). Plain node:http:
// three read-only routes need no framework, and nothing here may block or allocate much while calls run.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from '../logging/index.js';

/** The liveness of a supervisor's worker processes, as /healthz reports it. */
export interface WorkersHealth {
  /** Workers that answered their last ping in time. */
  readonly responsive: number;
  /** Slots of workers that owe a ping answer longer than expected (they are killed when it passes the timeout). */
  readonly late: readonly number[];
}

export interface Health {
  readonly healthy: boolean;
  readonly eventLoopDelayMs: number;
  /** A supervisor's worker processes (`piopiy-ai start --workers N`). */
  readonly workers?: WorkersHealth;
}

export interface Readiness {
  readonly ready: boolean;
  readonly connected: boolean;
  readonly draining: boolean;
  readonly activeCalls: number;
  readonly maxCalls: number | undefined;
}

export interface OperationsRoutes {
  health(): Health;
  readiness(): Readiness;
  metrics(): Promise<{ contentType: string; body: string }>;
}

export class OperationsServer {
  private server: Server | undefined;

  constructor(
    private readonly routes: OperationsRoutes,
    private readonly logger: Logger,
  ) {}

  async listen(port: number, host: string): Promise<void> {
    const server = createServer((request, response) => void this.handle(request, response));
    // Probes and scrapes are short; a stuck client must not hold a socket for the default 5 minutes.
    server.requestTimeout = 10_000;
    server.headersTimeout = 10_000;
    await new Promise<void>((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException): void => {
        const where = `${host}:${port}`;
        if (error.code === 'EADDRINUSE') reject(new Error(`the operations port ${where} is in use: choose another (operations.port, PIOPIY_OPERATIONS_PORT or --operations-port; 0 turns them off in piopiy-ai start)`, { cause: error }));
        else reject(new Error(`could not serve the operations endpoints on ${where}: ${error.message}`, { cause: error }));
      };
      server.once('error', onError);
      server.listen(port, host, () => {
        server.off('error', onError);
        resolve();
      });
    });
    server.unref(); // the Agent's signaling keeps the process alive, not its monitoring
    this.server = server;
  }

  /** The port listened on (the real one when 0 was asked), or undefined before `listen` and after `close`. */
  get port(): number | undefined {
    const address = this.server?.address();
    return address !== null && typeof address === 'object' ? (address).port : undefined;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server === undefined) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      send(response, 405, 'text/plain; charset=utf-8', 'method not allowed\n', { allow: 'GET, HEAD' });
      return;
    }
    try {
      if (path === '/healthz') {
        const health = this.routes.health();
        send(response, health.healthy ? 200 : 503, 'application/json', JSON.stringify({ status: health.healthy ? 'ok' : 'unhealthy', ...health }));
      } else if (path === '/readyz') {
        const readiness = this.routes.readiness();
        send(response, readiness.ready ? 200 : 503, 'application/json', JSON.stringify({ status: readiness.ready ? 'ready' : 'not ready', ...readiness }));
      } else if (path === '/metrics') {
        const { contentType, body } = await this.routes.metrics();
        send(response, 200, contentType, body);
      } else {
        send(response, 404, 'text/plain; charset=utf-8', 'not found: try /healthz, /readyz or /metrics\n');
      }
    } catch (error) {
      this.logger.error({ err: error, path }, 'operations endpoint failed');
      if (!response.headersSent) send(response, 500, 'text/plain; charset=utf-8', 'internal error\n');
      else response.destroy();
    }
  }
}

function send(response: ServerResponse, status: number, contentType: string, body: string, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store', ...headers });
  response.end(response.req.method === 'HEAD' ? undefined : body);
}
