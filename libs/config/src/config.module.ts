import { DynamicModule, Global, Module } from '@nestjs/common';
import { z } from 'zod';
import { loadConfig } from './load-config';

/** Injection token of the app's parsed configuration. Libraries inject it typed as the fragment they need. */
export const APP_CONFIG = Symbol('APP_CONFIG');

@Global()
@Module({})
export class ConfigModule {
  /** Registers an already-parsed config (main.ts parses before Nest boots, so errors print cleanly). */
  static forRoot<T extends object>(config: T): DynamicModule {
    return { module: ConfigModule, providers: [{ provide: APP_CONFIG, useValue: Object.freeze(config) }], exports: [APP_CONFIG] };
  }

  static fromSchema(schema: z.ZodType, env?: NodeJS.ProcessEnv): DynamicModule {
    return ConfigModule.forRoot(loadConfig(schema, env) as object);
  }
}
