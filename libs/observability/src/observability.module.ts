import { DynamicModule, Global, Module, Provider, Type } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { LoggerModule } from 'nestjs-pino';
import { DEPENDENCY_CHECKS, DependencyCheck } from './dependency-check';
import { HealthController } from './health.controller';
import { Lifecycle } from './lifecycle';
import { loggerParams, LoggerOptions } from './logger';
import { MetricsController } from './metrics.controller';
import { MetricsService } from './metrics.service';

export interface ObservabilityOptions extends LoggerOptions {
  /** The dependency checks /health/ready runs: providers exported by the adapter modules imported. */
  checks: Type<DependencyCheck>[];
}

@Global()
@Module({})
export class ObservabilityModule {
  static forRoot(options: ObservabilityOptions): DynamicModule {
    const checks: Provider = {
      provide: DEPENDENCY_CHECKS,
      useFactory: (...found: DependencyCheck[]) => found,
      inject: options.checks,
    };
    return {
      module: ObservabilityModule,
      imports: [LoggerModule.forRoot(loggerParams(options)), TerminusModule.forRoot({ errorLogStyle: 'json', gracefulShutdownTimeoutMs: 0 })],
      controllers: [HealthController, MetricsController],
      providers: [checks, Lifecycle, { provide: MetricsService, useValue: new MetricsService(options.service) }],
      exports: [Lifecycle, MetricsService],
    };
  }
}
