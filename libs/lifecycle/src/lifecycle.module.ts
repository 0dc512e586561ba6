import { Module } from '@nestjs/common';
import { FileLifecycle } from './file-lifecycle';
import { UploadMetrics } from './upload-metrics';

/** The file lifecycle for the apps that move files (needs the global database and storage modules). */
@Module({ providers: [FileLifecycle, UploadMetrics], exports: [FileLifecycle, UploadMetrics] })
export class LifecycleModule {}
