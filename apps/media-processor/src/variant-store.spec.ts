import type { VariantRepository } from '@app/database';
import { KeyLayout } from '@app/storage';
import type { ObjectStorage } from '@app/storage';
import { callsInOrder, strictMock } from '@app/testing';
import { IMMUTABLE, VariantStore } from './variant-store';

const keys = new KeyLayout({ objectPrefix: 'uploads/', variantPrefix: 'variants/' });
const parts = { tenantId: '0b6a3f2e-1c4d-4e5f-8a9b-0c1d2e3f4a5b', fileId: '9f8e7d6c-5b4a-4c3d-9e2f-1a0b9c8d7e6f' };
const variant = (storageKey: string) => ({ name: 'thumb', storageKey, contentType: 'image/webp', size: 5 });

function setup(opts: { previous: string | null; stillShown?: boolean }) {
  const storage = strictMock<ObjectStorage>('storage', { put: async () => undefined, delete: async () => undefined });
  const variants = strictMock<VariantRepository>('variants', {
    keyOf: async () => opts.previous,
    upsert: async () => undefined,
    isReferenced: async () => opts.stillShown ?? false,
  });
  return { store: new VariantStore(storage, keys, variants), calls: () => callsInOrder({ storage, variants }) };
}

describe('VariantStore', () => {
  it('writes bytes under a key naming them, immutable: the same bytes, the same key', async () => {
    const { store, calls } = setup({ previous: null });
    const a = await store.write(parts, 'thumb', Buffer.from('webp bytes'), 'image/webp');
    const b = await store.write(parts, 'thumb', Buffer.from('webp bytes'), 'image/webp');
    const c = await store.write(parts, 'thumb', Buffer.from('other bytes'), 'image/webp');
    expect(a).toBe(b);
    expect(c).not.toBe(a);
    expect(a).toMatch(new RegExp(`^variants/${parts.tenantId}/${parts.fileId}/thumb\\.[0-9a-f]{16}$`));
    expect(calls()[0]).toEqual(['storage.put', a, Buffer.from('webp bytes'), 'image/webp', { cacheControl: IMMUTABLE }]);
  });

  it('deletes the object a re-rendered variant replaced once no file shows it', async () => {
    const { store, calls } = setup({ previous: 'variants/t/f/thumb.0000000000000000' });
    await store.record(parts.fileId, variant('variants/t/f/thumb.1111111111111111'));
    expect(calls()).toEqual([
      ['variants.keyOf', parts.fileId, 'thumb'],
      ['variants.upsert', parts.fileId, variant('variants/t/f/thumb.1111111111111111')],
      ['variants.isReferenced', 'variants/t/f/thumb.0000000000000000'],
      ['storage.delete', 'variants/t/f/thumb.0000000000000000'],
    ]);
  });

  it('keeps a replaced object an instant-upload copy still shows, and an unchanged one', async () => {
    const shown = setup({ previous: 'variants/t/f/thumb.0000000000000000', stillShown: true });
    await shown.store.record(parts.fileId, variant('variants/t/f/thumb.1111111111111111'));
    expect(shown.calls().map(([call]) => call)).not.toContain('storage.delete');

    const same = setup({ previous: 'variants/t/f/thumb.1111111111111111' });
    await same.store.record(parts.fileId, variant('variants/t/f/thumb.1111111111111111'));
    expect(same.calls().map(([call]) => call)).toEqual(['variants.keyOf', 'variants.upsert']);
  });
});
