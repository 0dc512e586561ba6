import { Module } from '@nestjs/common';
import { FileLifecycle } from './file-lifecycle';

/** The file lifecycle for the apps that move files (needs the global database and storage modules). */
@Module({ providers: [FileLifecycle], exports: [FileLifecycle] })
export class LifecycleModule {}
