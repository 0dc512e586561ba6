import { Logger } from '@nestjs/common';
import { MetricsService } from '@app/observability';
import type { BucketPosture, BucketPostureInspector, BucketPostureReport } from '@app/storage';
import { strictMock } from '@app/testing';
import { BucketPostureCheck } from './bucket-posture-check';

const posture = { bucket: 'uploads' } as BucketPosture;

function check(inspect: () => Promise<BucketPostureReport>, everySeconds = 0) {
  const inspector = strictMock<BucketPostureInspector>('inspector', { inspect, posture });
  const metrics = new MetricsService('test');
  const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  const log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  const service = new BucketPostureCheck(inspector, metrics, { BUCKET_POSTURE_CHECK_SECONDS: everySeconds });
  const gauge = async (name: string) =>
    Object.fromEntries((await metrics.registry.getSingleMetric(name)!.get()).values.map((v) => [String(v.labels.setting), v.value]));
  return { service, warn, log, gauge, inspector };
}

afterEach(() => {
  jest.useRealTimers();
  jest.restoreAllMocks();
});

describe('BucketPostureCheck: the bucket read back at start and every interval', () => {
  it('logs each difference as a structured warning and sets storage_bucket_drift per setting read', async () => {
    const { service, warn, gauge } = check(() =>
      Promise.resolve({
        bucket: 'uploads',
        checked: ['cors', 'encryption', 'lifecycle', 'policy', 'public-access-block'],
        drift: [
          {
            setting: 'public-access-block',
            problem: 'RestrictPublicBuckets is false; the bootstrap sets true',
            expected: { RestrictPublicBuckets: true },
            actual: { RestrictPublicBuckets: false },
          },
          { setting: 'policy', problem: 'statement DenyInsecureTransport is missing', expected: { Sid: 'DenyInsecureTransport' }, actual: null },
        ],
        unreadable: [],
      }),
    );
    service.onApplicationBootstrap();
    await service.done;
    expect(await gauge('storage_bucket_drift')).toEqual({ 'public-access-block': 1, encryption: 0, policy: 1, cors: 0, lifecycle: 0 });
    expect(warn.mock.calls).toEqual([
      [
        { bucket: 'uploads', setting: 'public-access-block', expected: { RestrictPublicBuckets: true }, actual: { RestrictPublicBuckets: false } },
        'bucket drift: public-access-block: RestrictPublicBuckets is false; the bootstrap sets true',
      ],
      [
        { bucket: 'uploads', setting: 'policy', expected: { Sid: 'DenyInsecureTransport' }, actual: null },
        'bucket drift: policy: statement DenyInsecureTransport is missing',
      ],
    ]);
  });

  it('logs a setting it could not read and shows it apart, without counting it as drift or as clean', async () => {
    const { service, warn, gauge } = check(() =>
      Promise.resolve({
        bucket: 'uploads',
        checked: ['cors', 'lifecycle', 'policy'],
        drift: [],
        unreadable: [{ setting: 'encryption', code: 'storage_error', message: 'read encryption: AccessDenied' }],
      }),
    );
    await service.check();
    expect(await gauge('storage_bucket_drift')).toEqual({ policy: 0, cors: 0, lifecycle: 0 });
    expect(await gauge('storage_bucket_posture_unreadable')).toEqual({ encryption: 1, policy: 0, cors: 0, lifecycle: 0 });
    expect(warn).toHaveBeenCalledWith(
      { bucket: 'uploads', setting: 'encryption', code: 'storage_error', error: 'read encryption: AccessDenied' },
      'bucket posture: cannot read encryption',
    );
  });

  it('does not hold start-up while storage is slow, and a failed check is logged, not thrown', async () => {
    let answer!: (report: BucketPostureReport) => void;
    const { service } = check(() => new Promise((resolve) => (answer = resolve)));
    // Returns at once: Nest's start-up goes on while the check waits for storage.
    expect(service.onApplicationBootstrap()).toBeUndefined();
    answer({ bucket: 'uploads', checked: [], drift: [], unreadable: [] });
    await expect(service.done).resolves.toEqual({ bucket: 'uploads', checked: [], drift: [], unreadable: [] });

    const failing = check(() => Promise.reject(new Error('socket hang up')));
    failing.service.onApplicationBootstrap();
    await expect(failing.service.done).resolves.toBeNull();
    expect(failing.warn).toHaveBeenCalledWith({ bucket: 'uploads', err: expect.any(Error) }, 'could not check the bucket posture');
  });
  it('reads the bucket again every interval: a drift made after start is reported, and a fix clears it, each logged once', async () => {
    jest.useFakeTimers();
    const report = (drift: BucketPostureReport['drift']): BucketPostureReport => ({
      bucket: 'uploads',
      checked: ['cors', 'encryption', 'lifecycle', 'policy', 'public-access-block'],
      drift,
      unreadable: [],
    });
    const removed = { setting: 'public-access-block' as const, problem: 'no public access block', expected: {}, actual: null };
    const answers = [report([]), report([removed]), report([removed]), report([])];
    const { service, warn, log, gauge, inspector } = check(() => Promise.resolve(answers.shift()!), 900);
    const nextCheck = async () => {
      jest.advanceTimersByTime(900_000);
      await service.done;
    };
    service.onApplicationBootstrap();
    await service.done;
    expect(await gauge('storage_bucket_drift')).toMatchObject({ 'public-access-block': 0 });
    expect(log).toHaveBeenCalledWith(expect.objectContaining({ bucket: 'uploads' }), 'bucket posture as configured');

    await nextCheck(); // the block removed after start
    expect(await gauge('storage_bucket_drift')).toMatchObject({ 'public-access-block': 1 });
    await nextCheck(); // still removed: not logged again
    expect(warn.mock.calls.map((c) => c[1])).toEqual(['bucket drift: public-access-block: no public access block']);
    await nextCheck(); // restored
    expect(await gauge('storage_bucket_drift')).toMatchObject({ 'public-access-block': 0 });
    expect(log).toHaveBeenLastCalledWith({ bucket: 'uploads', setting: 'public-access-block' }, 'bucket posture: public-access-block as configured again');
    expect(inspector.inspect).toHaveBeenCalledTimes(4);

    service.onApplicationShutdown();
    jest.advanceTimersByTime(3_600_000);
    expect(inspector.inspect).toHaveBeenCalledTimes(4); // no check after shutdown
  });

  it('skips a round while storage has not answered the last check, and checks only at start with an interval of 0', async () => {
    jest.useFakeTimers();
    let answer!: (report: BucketPostureReport) => void;
    const slow = check(() => new Promise((resolve) => (answer = resolve)), 60);
    slow.service.onApplicationBootstrap();
    jest.advanceTimersByTime(180_000);
    expect(slow.inspector.inspect).toHaveBeenCalledTimes(1);
    answer({ bucket: 'uploads', checked: [], drift: [], unreadable: [] });
    await slow.service.done;
    jest.advanceTimersByTime(60_000);
    expect(slow.inspector.inspect).toHaveBeenCalledTimes(2);
    answer({ bucket: 'uploads', checked: [], drift: [], unreadable: [] });
    await slow.service.done;
    slow.service.onApplicationShutdown();

    const once = check(() => Promise.resolve({ bucket: 'uploads', checked: [], drift: [], unreadable: [] }), 0);
    once.service.onApplicationBootstrap();
    await once.service.done;
    jest.advanceTimersByTime(86_400_000);
    expect(once.inspector.inspect).toHaveBeenCalledTimes(1);
  });
});
