import { Injectable } from '@nestjs/common';
import { DiscoveryModule, DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { UnrecoverableError } from 'bullmq';
import { PermanentJobFailure } from './job-outcome';
import { OnJob } from './on-job.decorator';
import type { QueueName } from './registry';
import { collectHandlers, HandlerRegistrationError, toWorkerError } from './worker-host';

@Injectable()
class Prune {
  @OnJob('changes.prune')
  async prune() {
    return 'pruned';
  }
}

@Injectable()
class PruneAgain {
  @OnJob('changes.prune')
  async prune() {
    return 'again';
  }
}

@Injectable()
class Sweep {
  @OnJob('webhooks.sweep')
  async sweep() {
    return 'swept';
  }
}

@Injectable()
class Changes {
  @OnJob('storage-events.prune')
  async prune() {
    return 'changes';
  }
}

async function handlersOf(providers: Array<new () => object>, served: QueueName[]) {
  const module = await Test.createTestingModule({ imports: [DiscoveryModule], providers }).compile();
  return collectHandlers(module.get(DiscoveryService), module.get(MetadataScanner), module.get(Reflector), served);
}

describe('collectHandlers', () => {
  it('maps each job of the served queues to its one handler, bound to its instance', async () => {
    const handlers = await handlersOf([Prune, Sweep], ['sync']);
    expect([...handlers.keys()].sort()).toEqual(['changes.prune', 'webhooks.sweep']);
    await expect(handlers.get('changes.prune')!({ v: 1 }, { id: '1', attempt: 1, signal: new AbortController().signal })).resolves.toBe('pruned');
  });

  it('fails at startup when a job of a served queue has no handler', async () => {
    await expect(handlersOf([], ['sync'])).rejects.toThrow(
      new HandlerRegistrationError('no handler for job(s) changes.prune, webhooks.sweep of the queues this service serves'),
    );
  });

  it('fails at startup when a job has two handlers', async () => {
    await expect(handlersOf([Prune, PruneAgain, Sweep], ['sync'])).rejects.toThrow(/job "changes.prune" has two handlers: Prune.prune and PruneAgain.prune/);
  });

  it('fails at startup on a handler for a queue the service does not serve', async () => {
    await expect(handlersOf([Prune, Sweep, Changes], ['sync'])).rejects.toThrow(
      /handlers for job\(s\) storage-events.prune whose queues this service does not serve/,
    );
  });

  it('accepts a process that serves no queue (a pure producer)', async () => {
    await expect(handlersOf([], [])).resolves.toEqual(new Map());
  });
});

describe('toWorkerError', () => {
  it('turns a PermanentJobFailure into the UnrecoverableError that stops BullMQ retrying, message and stack kept', () => {
    const failure = new PermanentJobFailure('corrupt_media: no video stream');
    const mapped = toWorkerError(failure);
    expect(mapped).toBeInstanceOf(UnrecoverableError);
    expect(mapped).toMatchObject({ message: 'corrupt_media: no video stream', stack: failure.stack, cause: failure });
  });

  it('passes any other error through untouched, to be retried by the job policy', () => {
    const transient = new Error('connection reset');
    expect(toWorkerError(transient)).toBe(transient);
  });
});
