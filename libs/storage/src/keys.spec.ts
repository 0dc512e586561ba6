import { encodeKeyPath, KeyLayout } from './keys';

const layout = new KeyLayout({ objectPrefix: 'uploads/', variantPrefix: 'variants/' });
const tenantId = '0b6a3f2e-1c4d-4e5f-8a9b-0c1d2e3f4a5b';
const fileId = '9f8e7d6c-5b4a-4c3d-9e2f-1a0b9c8d7e6f';

describe('KeyLayout', () => {
  it('builds object and variant keys from ids only', () => {
    expect(layout.objectKey({ tenantId, fileId })).toBe(`uploads/${tenantId}/${fileId}`);
    expect(layout.variantKey({ tenantId, fileId }, 'thumb', '0123456789abcdef')).toBe(`variants/${tenantId}/${fileId}/thumb.0123456789abcdef`);
  });

  it.each(['../../x', 'a/b', '', 'ABCDEF', `${fileId}/..`])('refuses %j as an id, so no input can steer a key', (bad) => {
    expect(() => layout.objectKey({ tenantId, fileId: bad })).toThrow(/must be a lowercase UUID/);
    expect(() => layout.objectKey({ tenantId: bad, fileId })).toThrow(/must be a lowercase UUID/);
  });

  it('refuses variant names that could form a path', () => {
    expect(() => layout.variantKey({ tenantId, fileId }, '../thumb', '0123456789abcdef')).toThrow(/invalid variant name/);
  });

  it.each(['', '0123456789ABCDEF', '0123456789abcde', '../0123456789abc'])('refuses %j as a variant digest', (bad) => {
    expect(() => layout.variantKey({ tenantId, fileId }, 'thumb', bad)).toThrow(/16 lowercase hex digits/);
  });

  it('parses only keys it issued', () => {
    expect(layout.parseObjectKey(`uploads/${tenantId}/${fileId}`)).toEqual({ tenantId, fileId });
    expect(layout.parseObjectKey(`variants/${tenantId}/${fileId}`)).toBeNull();
    expect(layout.parseObjectKey(`uploads/${tenantId}/${fileId}/extra`)).toBeNull();
    expect(layout.parseObjectKey(`uploads/${tenantId}/not-a-uuid`)).toBeNull();
    expect(layout.parseObjectKey('uploads/x')).toBeNull();
  });
});

describe('encodeKeyPath', () => {
  it('encodes each segment per RFC 3986 and keeps slashes', () => {
    expect(encodeKeyPath("a b/c+d/e!'()*")).toBe('a%20b/c%2Bd/e%21%27%28%29%2A');
  });
});
