/**
 * GET /health and GET /metrics on the gateway's uWS app. /health is 200 only when the server is ready for
 * trading (engine recovered, queue reachable); 503 with the reason otherwise, so a load balancer keeps
 * traders away from a recovering or cut-off engine.
 */
import type { TemplatedApp } from 'uWebSockets.js';
import type { Metrics } from './metrics.js';

export interface Health {
  status: 'starting' | 'recovering' | 'ready' | 'queue_unreachable' | 'stopping';
  [k: string]: unknown;
}

export function registerHttpRoutes(app: TemplatedApp, health: () => Promise<Health>, metrics: Metrics): void {
  app.get('/health', (res) => {
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
    });
    health().then(
      (h) => {
        if (aborted) return;
        res.cork(() => {
          res
            .writeStatus(h.status === 'ready' ? '200 OK' : '503 Service Unavailable')
            .writeHeader('content-type', 'application/json')
            .end(JSON.stringify(h));
        });
      },
      (err: unknown) => {
        if (aborted) return;
        res.cork(() => {
          res
            .writeStatus('503 Service Unavailable')
            .end(JSON.stringify({ status: 'error', error: String(err) }));
        });
      },
    );
  });
  app.get('/metrics', (res) => {
    res.writeHeader('content-type', 'text/plain; version=0.0.4').end(metrics.render());
  });
  // Anything else on the traders' port is a plain 404 (operator routes live on the admin port only).
  app.any('/*', (res) => {
    res.writeStatus('404 Not Found').end('not found');
  });
}
