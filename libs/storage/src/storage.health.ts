import { Injectable } from '@nestjs/common';
import type { DependencyCheck } from '@app/observability';
import { ObjectStorage } from './object-storage';
import { StorageEventSource } from './storage-event-source';

@Injectable()
export class S3Health implements DependencyCheck {
  readonly name = 's3';

  constructor(private readonly storage: ObjectStorage) {}

  async check() {
    await this.storage.checkBucket();
    return { bucket: this.storage.bucket };
  }
}

@Injectable()
export class SqsHealth implements DependencyCheck {
  readonly name = 'sqs';

  constructor(private readonly events: StorageEventSource) {}

  async check() {
    return { ...(await this.events.depth()), consuming: this.events.running };
  }
}
