import { probeVideo } from '@app/media';
import { SilentOrigin } from '@app/testing';

/**
 * Decoders past their time limit stop working, not only stop being waited for (issue #11): a
 * source that never answers holds ffprobe, which must be killed when the file fails.
 */
describe('video adapter time limit (ffprobe)', () => {
  const origin = new SilentOrigin();
  beforeAll(() => origin.start());
  afterAll(() => origin.stop());

  it('kills ffprobe when it outlasts its time limit, failing with `timeout`', async () => {
    const started = Date.now();
    await expect(probeVideo(origin.url('/video.mp4'), 1)).rejects.toMatchObject({ code: 'timeout' });
    expect(Date.now() - started).toBeLessThan(3_000);
    // The killed process's connection closes; a probe left running would hold it open.
    expect(await origin.connectionsClosed(1)).toEqual({ opened: 1, closed: 1 });
  });
});
