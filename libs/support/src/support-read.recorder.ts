import { Inject, Injectable } from '@nestjs/common';
import { EVENT_STORE, type EventStore, type JsonObject, timeOrderedId } from '@app/event-store';
import { CLOCK, type Clock, type CommandContext, eventMetadata } from '@app/identity';

/** The instance stream every `SupportDataRead` goes to. */
export const SUPPORT_READS_STREAM = 'supportReads';

/**
 * Records that a support token read someone's personal data (what, and about whom). Admins
 * read without a trace here: their reads are not what the support role's accountability is for.
 */
@Injectable()
export class SupportReadRecorder {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async record(reader: CommandContext, what: string, subject?: string): Promise<void> {
    if (reader.actor.kind !== 'support') return;
    await this.store.append(
      SUPPORT_READS_STREAM,
      [{ id: timeOrderedId(), type: 'SupportDataRead', data: { what, ...(subject ? { subject } : {}) } as JsonObject, metadata: eventMetadata(reader, 'instance', this.clock.now().toISOString()) }],
      'any',
    );
  }
}
