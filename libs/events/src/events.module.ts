import { Module } from '@nestjs/common';
import { SetDelivery } from './delivery/set-delivery.service';
import { SetPushWorker } from './delivery/set-push.worker';
import { SetSigningKeys } from './keys/set-signing-keys.service';
import { SetStreams } from './streams/set-streams.service';

/**
 * SCIM events over SSF streams. Takes the core ports (EVENT_STORE, CLOCK, LEADER_LEASE,
 * APP_CONFIG, the projection runner) from the application's global core; the feed read model
 * (`scimEventsProjection`) is listed with the others in the composition root.
 */
@Module({
  providers: [SetSigningKeys, SetStreams, SetDelivery, SetPushWorker],
  exports: [SetSigningKeys, SetStreams, SetDelivery, SetPushWorker],
})
export class EventsModule {}
