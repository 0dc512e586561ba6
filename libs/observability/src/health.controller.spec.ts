import { Test } from '@nestjs/testing';
import { TerminusModule } from '@nestjs/terminus';
import { DEPENDENCY_CHECKS, DependencyCheck } from './dependency-check';
import { HealthController } from './health.controller';
import { Lifecycle } from './lifecycle';

const up = (name: string): DependencyCheck => ({ name, check: async () => undefined });
const down = (name: string, message: string): DependencyCheck => ({ name, check: async () => Promise.reject(new Error(message)) });
const hung = (name: string): DependencyCheck => ({ name, check: () => new Promise(() => undefined) });

async function controllerWith(checks: DependencyCheck[]) {
  const module = await Test.createTestingModule({
    imports: [TerminusModule.forRoot({ logger: false })],
    controllers: [HealthController],
    providers: [Lifecycle, { provide: DEPENDENCY_CHECKS, useValue: checks }],
  }).compile();
  return { controller: module.get(HealthController), lifecycle: module.get(Lifecycle) };
}

interface FakeReply {
  statusCode: number;
  status(code: number): FakeReply;
}

function fakeReply(): FakeReply {
  const reply: FakeReply = {
    statusCode: 200,
    status(code: number) {
      reply.statusCode = code;
      return reply;
    },
  };
  return reply;
}

describe('HealthController', () => {
  it('is ready when every dependency answers, and lists each check', async () => {
    const { controller } = await controllerWith([up('database'), up('redis')]);
    const reply = fakeReply();
    const doc = (await controller.ready(reply as never)) as { status: string; details: Record<string, { status: string }> };
    expect(reply.statusCode).toBe(200);
    expect(doc.status).toBe('ok');
    expect(Object.keys(doc.details)).toEqual(['lifecycle', 'database', 'redis']);
  });

  it('answers 503 naming the dependency that is down', async () => {
    const { controller } = await controllerWith([up('database'), down('redis', 'Connection is closed.')]);
    const reply = fakeReply();
    const doc = (await controller.ready(reply as never)) as { status: string; error: Record<string, { message: string }> };
    expect(reply.statusCode).toBe(503);
    expect(doc.status).toBe('error');
    expect(doc.error.redis.message).toBe('Connection is closed.');
  });

  it('does not hang on a dependency that never answers', async () => {
    const { controller } = await controllerWith([hung('s3')]);
    const reply = fakeReply();
    const doc = (await controller.ready(reply as never)) as { error: Record<string, { message: string }> };
    expect(reply.statusCode).toBe(503);
    expect(doc.error.s3.message).toMatch(/no answer within/);
  });

  it('reports not ready while draining after SIGTERM, so traffic moves elsewhere', async () => {
    const { controller, lifecycle } = await controllerWith([up('database')]);
    lifecycle.startDraining();
    const reply = fakeReply();
    const doc = (await controller.ready(reply as never)) as { error: Record<string, { message: string }> };
    expect(reply.statusCode).toBe(503);
    expect(doc.error.lifecycle.message).toBe('shutting down');
  });

  it('stays live regardless of dependencies', async () => {
    const { controller } = await controllerWith([down('database', 'down')]);
    expect(controller.live()).toEqual({ status: 'ok' });
  });
});
