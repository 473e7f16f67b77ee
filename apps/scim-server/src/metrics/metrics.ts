import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** The server's Prometheus registry: one per process, created once at start. */
export class Metrics {
  readonly registry = new Registry();
  readonly requests = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP requests by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly eventsAppended = new Counter({
    name: 'events_appended_total',
    help: 'Appends committed to the event store (one per commit, of one or more streams)',
    registers: [this.registry],
  });
  readonly projectionLag: Gauge<'projection'>;

  constructor(lag: () => Promise<{ name: string; lag: string }[]>) {
    collectDefaultMetrics({ register: this.registry });
    this.projectionLag = new Gauge({
      name: 'projection_lag_events',
      help: 'Events between the log head and what each projection has applied',
      labelNames: ['projection'] as const,
      registers: [this.registry],
      async collect() {
        for (const p of await lag()) this.set({ projection: p.name }, Number(p.lag));
      },
    });
  }
}
