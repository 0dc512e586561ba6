import { Logger } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { DomainError } from '@app/contracts';
import type { StorageEventMessage } from '@app/storage';
import { strictMock } from '@app/testing';
import { StorageEventsPushController } from './storage-events-push.controller';
import type { StorageEventsService } from './storage-events.service';

const request = { id: 'req-1' } as FastifyRequest;
const rgwBody = {
  Records: [
    {
      eventVersion: '2.2',
      eventSource: 'ceph:s3',
      eventTime: '2026-11-29T10:00:00.123456Z',
      eventName: 's3:ObjectCreated:Put',
      s3: { bucket: { name: 'uploads' }, object: { key: 'uploads/t1/f1', size: 11, eTag: 'abc', sequencer: '1A2B' } },
      eventId: '1764410400.123456.abc',
    },
  ],
};

function setup(handleBatch: (messages: StorageEventMessage[]) => Promise<StorageEventMessage[]> = async (m) => m) {
  const events = strictMock<StorageEventsService>('events', { handleBatch });
  return { events, controller: new StorageEventsPushController(events) };
}

async function statusOf(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
    return 200;
  } catch (error) {
    return error instanceof DomainError ? error.status : 500;
  }
}

describe('StorageEventsPushController', () => {
  beforeAll(() => Logger.overrideLogger(false));

  it.each([
    ['a parsed JSON body (application/json)', rgwBody],
    ['a text body (another content type, or none)', JSON.stringify(rgwBody)],
  ])('hands %s to the batch handler as one message and answers after it resolved', async (_, body) => {
    const { controller, events } = setup();

    await expect(controller.push(body, request)).resolves.toEqual({ events: 1 });

    const [[messages]] = events.handleBatch.mock.calls;
    expect(messages).toEqual([
      {
        events: [expect.objectContaining({ eventName: 'ObjectCreated:Put', bucket: 'uploads', key: 'uploads/t1/f1', sequencer: '1A2B' })],
        context: { messageId: 'req-1', receiveCount: 1 },
      },
    ]);
  });

  it('answers 503 when handling failed, so RGW keeps the event and pushes it again', async () => {
    const { controller } = setup(async () => {
      throw new Error('db down');
    });
    expect(await statusOf(controller.push(rgwBody, request))).toBe(503);
  });

  it('answers 503 when the handler did not acknowledge the message', async () => {
    const { controller } = setup(async () => []);
    expect(await statusOf(controller.push(rgwBody, request))).toBe(503);
  });

  it.each([
    ['text that is not JSON', 'not json'],
    ['no body', undefined],
    ['JSON without Records', { Event: 's3:TestEvent' }],
    ['a key that is not valid Unicode', { Records: [{ ...rgwBody.Records[0], s3: { bucket: { name: 'uploads' }, object: { key: 'uploads/\ud800' } } }] }],
  ])('answers 400 to %s, handling nothing', async (_, body) => {
    const { controller, events } = setup();
    expect(await statusOf(controller.push(body, request))).toBe(400);
    expect(events.handleBatch).not.toHaveBeenCalled();
  });
});
