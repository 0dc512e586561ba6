import { Logger } from '@nestjs/common';
import type { FileRepository, TenantAdminRecord, TenantRepository } from '@app/database';
import { aTenant, strictMock, TEST_TENANT_ID } from '@app/testing';
import { QUOTA_HOLDING, TenantsService } from './tenants.service';

const AT = new Date('2026-12-07T10:00:00.000Z');
const adminTenant = (overrides: Partial<TenantAdminRecord> = {}): TenantAdminRecord => ({
  ...aTenant(),
  createdAt: AT,
  updatedAt: AT,
  deletedAt: null,
  ...overrides,
});

function setup(tenants: Parameters<typeof strictMock<TenantRepository>>[1], usage = { usedBytes: 0n, reservedBytes: 0n, files: 0n }) {
  const repo = strictMock<TenantRepository>('tenants', tenants);
  const files = strictMock<FileRepository>('files', { usage: async () => usage });
  return { service: new TenantsService(repo, files), tenants: repo, files };
}

describe('TenantsService', () => {
  beforeEach(() => jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined));

  it('counts usage as GET /v1/usage does: reserved while awaiting bytes, used once stored', () => {
    expect(QUOTA_HOLDING).toEqual({ reserved: ['pending', 'uploading', 'completing'], used: ['uploaded', 'processing', 'ready', 'failed'] });
  });

  it('reads a tenant with its usage and what it may still reserve', async () => {
    const { service, files } = setup({ findForAdmin: async () => adminTenant({ quotaBytes: 1_000n }) }, { usedBytes: 600n, reservedBytes: 150n, files: 4n });
    await expect(service.get(TEST_TENANT_ID)).resolves.toMatchObject({
      id: TEST_TENANT_ID,
      quotaBytes: 1_000,
      createdAt: AT.toISOString(),
      deletedAt: null,
      usage: { usedBytes: 600, reservedBytes: 150, files: 4, availableBytes: 250 },
    });
    expect(files.usage).toHaveBeenCalledWith({ tenantId: TEST_TENANT_ID }, QUOTA_HOLDING);
  });

  it('changes only the settings given, MIME patterns in lower case and each once', async () => {
    const { service, tenants } = setup({ update: async () => ({ tenant: adminTenant({ name: 'renamed' }) }) });
    await service.update(TEST_TENANT_ID, { name: 'renamed', allowedTypes: ['Image/*', 'image/*', 'video/MP4'], quotaBytes: 5 });
    expect(tenants.update).toHaveBeenCalledWith(TEST_TENANT_ID, {
      name: 'renamed',
      quotaBytes: 5n,
      maxFileBytes: undefined,
      allowedTypes: ['image/*', 'video/mp4'],
      dedupScope: undefined,
      allowSvgRendering: undefined,
    });
  });

  it('answers a quota below what the tenant holds with a 409 conflict naming heldBytes', async () => {
    const { service } = setup({ update: async () => ({ quotaBelowHeld: 4_096n }) });
    await expect(service.update(TEST_TENANT_ID, { quotaBytes: 1_000 })).rejects.toMatchObject({
      code: 'conflict',
      extra: { heldBytes: 4_096, errors: [{ field: 'quotaBytes', message: 'must be at least 4096' }] },
    });
  });

  it('answers 404 for no such tenant and 409 invalid_state for one being deleted', async () => {
    const missing = setup({ update: async () => ({ missing: true }), findForAdmin: async () => null });
    await expect(missing.service.update(TEST_TENANT_ID, { name: 'x' })).rejects.toMatchObject({ code: 'not_found' });
    const deleting = setup({ update: async () => ({ missing: true }), findForAdmin: async () => adminTenant({ deletedAt: AT }) });
    await expect(deleting.service.update(TEST_TENANT_ID, { name: 'x' })).rejects.toMatchObject({
      code: 'invalid_state',
      extra: { deletedAt: AT.toISOString() },
    });
  });

  it('pages tenants with the page cursor of its last row', async () => {
    const rows = [adminTenant({ id: '00000000-0000-4000-8000-000000000003' }), adminTenant({ id: '00000000-0000-4000-8000-000000000002' })];
    const { service, tenants } = setup({ list: async () => rows });
    const page = await service.list({ limit: 1 });
    expect(page.items.map((t) => t.id)).toEqual([rows[0].id]);
    expect(tenants.list).toHaveBeenCalledWith(2, undefined);
    await service.list({ limit: 1, cursor: page.nextCursor! });
    expect(tenants.list).toHaveBeenLastCalledWith(2, { createdAt: AT, id: rows[0].id });
  });
});
