import { type DynamicModule, Global, Module, type Provider } from '@nestjs/common';
import type { AppConfig } from '@app/config';
import { coreProviders } from './core.providers';

function tokenOf(provider: Provider) {
  return typeof provider === 'function' ? provider : provider.provide;
}

/**
 * The composition root's bindings (configuration, clock, the store and its adapters, the
 * projection runner, read-your-writes, the identity directory…), global so the libs' own
 * modules (IdentityModule, AuthModule, ReadModelsModule…) inject the ports they name without
 * importing the app or knowing which adapter is behind them.
 */
@Global()
@Module({})
export class CoreModule {
  static forRoot(config: AppConfig): DynamicModule {
    const providers = coreProviders(config);
    return { module: CoreModule, providers, exports: providers.map(tokenOf) };
  }
}
