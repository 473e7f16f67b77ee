import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { EVENT_STORE, type EventStore } from '@app/event-store';

/** Readiness of the event store: it answers with its head position. */
@Injectable()
export class StoreHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}

  async check() {
    const store = this.indicators.check('store');
    try {
      return store.up({ kind: this.store.name, head: (await this.store.headPosition()).toString() });
    } catch {
      return store.down({ kind: this.store.name, message: 'event store unreachable' });
    }
  }
}
