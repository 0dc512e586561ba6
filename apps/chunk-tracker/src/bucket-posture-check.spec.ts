import { Logger } from '@nestjs/common';
import { MetricsService } from '@app/observability';
import type { BucketPosture, BucketPostureInspector, BucketPostureReport } from '@app/storage';
import { strictMock } from '@app/testing';
import { BucketPostureCheck } from './bucket-posture-check';

const posture = { bucket: 'uploads' } as BucketPosture;

function check(inspect: () => Promise<BucketPostureReport>) {
  const inspector = strictMock<BucketPostureInspector>('inspector', { inspect, posture });
  const metrics = new MetricsService('test');
  const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  const service = new BucketPostureCheck(inspector, metrics);
  const gauge = async (name: string) =>
    Object.fromEntries((await metrics.registry.getSingleMetric(name)!.get()).values.map((v) => [String(v.labels.setting), v.value]));
  return { service, warn, gauge, inspector };
}

afterEach(() => jest.restoreAllMocks());

describe('BucketPostureCheck: the bucket read back at start', () => {
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
});
