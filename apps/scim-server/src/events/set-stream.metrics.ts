import { Injectable, type OnModuleInit } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { SetPushWorker, SetStreams } from '@app/events';
import { Metrics } from '../metrics/metrics';

interface StreamSample {
  readonly id: string;
  readonly values: Record<string, number>;
}

/**
 * `/metrics` gauges per SET stream: enabled or not, push failing past its limit, consecutive
 * failed attempts, and lag as log positions between the scope's newest SET and the stream's
 * settled one (0 when caught up).
 */
@Injectable()
export class SetStreamMetrics implements OnModuleInit {
  private sample?: { at: number; value: Promise<StreamSample[]> };

  constructor(
    private readonly metrics: Metrics,
    private readonly streams: SetStreams,
    private readonly push: SetPushWorker,
  ) {}

  onModuleInit(): void {
    const gauges: [string, string, string][] = [
      ['set_stream_lag_positions', 'lag', 'Log positions between the newest SET of the scope and what the stream has settled'],
      ['set_stream_failing', 'failing', 'SET streams whose push delivery is failing past its limit (1)'],
      ['set_stream_enabled', 'enabled', 'SET streams that are enabled (1), paused or disabled (0)'],
      ['set_stream_push_failed_attempts', 'attempts', 'Consecutive failed push attempts per SET stream'],
    ];
    const samples = () => this.samples();
    for (const [name, key, help] of gauges) {
      new Gauge({
        name,
        help,
        labelNames: ['stream'] as const,
        registers: [this.metrics.registry],
        async collect() {
          this.reset();
          for (const s of await samples()) this.set({ stream: s.id }, s.values[key]);
        },
      });
    }
  }

  /** One read of every stream per scrape, shared by the four gauges (a feed not yet built reports nothing). */
  private samples(): Promise<StreamSample[]> {
    const now = Date.now();
    if (!this.sample || now - this.sample.at > 500) this.sample = { at: now, value: this.read().catch(() => []) };
    return this.sample.value;
  }

  private async read(): Promise<StreamSample[]> {
    const out: StreamSample[] = [];
    for (const s of this.streams.feed().streams()) {
      const view = await this.streams.load(s.id);
      const progress = await this.streams.progress(s.id);
      const head = this.streams.feed().last(s.scope);
      const settled = progress.floor?.position ?? view.createdAt;
      out.push({
        id: s.id,
        values: {
          lag: head && head.position > settled ? Number(head.position - settled) : 0,
          failing: view.state.failing ? 1 : 0,
          enabled: view.state.status === 'enabled' ? 1 : 0,
          attempts: this.push.status(s.id).attempts,
        },
      });
    }
    return out;
  }
}
