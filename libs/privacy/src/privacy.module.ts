import { Module } from '@nestjs/common';
import { IdentityModule } from '@app/identity';
import { ErasePersonHandler } from './erase-person.handler';

/**
 * Erasure. The data key store, the sealer and the housekeeping hook come from the
 * application's global core (the composition root picks the key table); the account writer
 * from the identity lib's module.
 */
@Module({
  imports: [IdentityModule],
  providers: [ErasePersonHandler],
})
export class PrivacyModule {}
