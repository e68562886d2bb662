import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CloseCause } from './core/core.interfaces.js';
import { WsAuthConfigurationError } from './core/ws-auth.exceptions.js';
import type { MetricsSettings } from './ws-auth-options.resolver.js';

/** Why a tracked connection closed, as `ws_auth_closes_total{reason}` counts it. */
export type { CloseCause };

/** `ws_auth_handshakes_total{outcome}`: `accepted`, or the refusal by its status. */
const OUTCOMES: Readonly<Record<number, string>> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  429: 'too_many_requests',
  500: 'error',
  503: 'unavailable',
};

/** Seconds: a cached token is answered in microseconds, a key set fetch or a database in milliseconds. */
const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

type PromClient = typeof import('prom-client');

/**
 * Prometheus metrics of the handshakes and connections (`WsAuthModule.forRoot({ metrics })`),
 * through the app's `prom-client`:
 * - `ws_auth_handshakes_total{gateway,outcome}`
 * - `ws_auth_authentication_duration_seconds{gateway}` (histogram)
 * - `ws_auth_connections{gateway,transport}` (gauge: open authenticated connections)
 * - `ws_auth_closes_total{gateway,reason}` (`expired`, `revoked`, `refresh_refused`, `client`)
 * - `ws_auth_refreshes_total{gateway}`
 */
export class WsAuthMetrics {
  private constructor(
    private readonly handshakes: Counter<'gateway' | 'outcome'>,
    private readonly latency: Histogram<'gateway'>,
    private readonly open: Gauge<'gateway' | 'transport'>,
    private readonly closes: Counter<'gateway' | 'reason'>,
    private readonly refreshes: Counter<'gateway'>,
  ) {}

  /** Loads prom-client (an optional peer) and registers the metrics, or reuses those of another app in the process. */
  static async create(settings: MetricsSettings): Promise<WsAuthMetrics> {
    let client: PromClient;
    try {
      client = await import('prom-client');
    } catch {
      throw new WsAuthConfigurationError(`the metrics option needs prom-client: npm install prom-client (or drop metrics).`);
    }
    const registry = (settings.registry as Registry | undefined) ?? client.register;
    const metric = <T>(name: string, make: (registers: Registry[]) => T): T =>
      (registry.getSingleMetric(name) as T | undefined) ?? make([registry]);
    return new WsAuthMetrics(
      metric('ws_auth_handshakes_total', (registers) =>
        new client.Counter({ name: 'ws_auth_handshakes_total', help: 'WebSocket handshakes of guarded gateways, by outcome', labelNames: ['gateway', 'outcome'], registers }),
      ),
      metric('ws_auth_authentication_duration_seconds', (registers) =>
        new client.Histogram({
          name: 'ws_auth_authentication_duration_seconds',
          help: 'Time from the handshake request to the verdict (strategies, resolveUser, limits)',
          labelNames: ['gateway'],
          buckets: LATENCY_BUCKETS,
          registers,
        }),
      ),
      metric('ws_auth_connections', (registers) =>
        new client.Gauge({ name: 'ws_auth_connections', help: 'Open authenticated connections', labelNames: ['gateway', 'transport'], registers }),
      ),
      metric('ws_auth_closes_total', (registers) =>
        new client.Counter({ name: 'ws_auth_closes_total', help: 'Closed authenticated connections, by reason', labelNames: ['gateway', 'reason'], registers }),
      ),
      metric('ws_auth_refreshes_total', (registers) =>
        new client.Counter({ name: 'ws_auth_refreshes_total', help: 'Accepted in-band token refreshes', labelNames: ['gateway'], registers }),
      ),
    );
  }

  judged(gateway: string, status: number | undefined, seconds: number): void {
    this.handshakes.inc({ gateway, outcome: status === undefined ? 'accepted' : (OUTCOMES[status] ?? String(status)) });
    this.latency.observe({ gateway }, seconds);
  }

  opened(gateway: string, transport: string): void {
    this.open.inc({ gateway, transport });
  }

  closed(gateway: string, transport: string, cause: CloseCause): void {
    this.open.dec({ gateway, transport });
    this.closes.inc({ gateway, reason: cause });
  }

  refreshed(gateway: string): void {
    this.refreshes.inc({ gateway });
  }
}
