import type { RecordedEvent } from '@app/event-store';
import type { Projection, ProjectionHandle } from '@app/projections';
import type { PersonalDataSealer } from './personal-data.sealer';
import { personOfStream } from './personal-fields';

/**
 * A read model that sees plaintext: each event is opened before the projection applies it.
 * An erased person's events that carried personal data are skipped (their values are gone, and
 * `AccountErased`, which each read model handles, removes whatever their other events left),
 * so a rebuild after an erasure ends where the incremental read model did. The audit
 * projection is not wrapped: it chains the stored (sealed) form.
 */
export function openingProjection<H extends ProjectionHandle>(projection: Projection<H>, sealer: PersonalDataSealer): Projection<H> {
  return {
    ...projection,
    create: (db, t) => projection.create(db, t),
    open(db, t) {
      const handle = projection.open(db, t);
      const apply = (event: RecordedEvent) => {
        const opened = sealer.open(event);
        if (opened.state === 'unknown') throw new Error(`the data key of ${event.streamId} is not loaded: event ${event.id} cannot be opened`);
        if (event.type === 'AccountErased') {
          // Another instance may have erased them: this one's memory must not keep the key.
          const person = personOfStream(event.streamId);
          if (person !== undefined) sealer.forgetPerson(person);
        }
        if (opened.state === 'erased') return;
        handle.apply(opened.event);
      };
      return new Proxy(handle, {
        get: (target, prop, receiver) => (prop === 'apply' ? apply : Reflect.get(target, prop, receiver) as unknown),
      });
    },
  };
}
