import { Logger } from '@nestjs/common';
import { DomainError } from '@app/contracts';
import type { FileRecord, FileRepository, TenantAdminRecord, TenantRepository } from '@app/database';
import { AWAITING_BYTES, FileLifecycle, LIVE, STORED } from '@app/lifecycle';
import { aFile, aTenant, callsInOrder, strictMock, TEST_TENANT_ID } from '@app/testing';
import { TenantDeletionService } from './tenant-deletion.service';

const AT = new Date('2026-12-07T10:00:00.000Z');
const DELETED_AT = new Date('2026-12-07T11:00:00.000Z');
const adminTenant = (deletedAt: Date | null): TenantAdminRecord => ({ ...aTenant(), createdAt: AT, updatedAt: AT, deletedAt });
const holding = (files: number) => ({ usedBytes: 0n, reservedBytes: 0n, files: BigInt(files) });

/** The service over strict mocks; `batches` are what successive reads of the tenant's live files find. */
function setup(opts: {
  tenant: TenantAdminRecord | null;
  held?: number;
  batches?: FileRecord[][];
  removed?: boolean[];
  afterRemove?: TenantAdminRecord | null;
}) {
  const batches = [...(opts.batches ?? [])];
  const removed = [...(opts.removed ?? [true])];
  let reads = 0;
  const tenants = strictMock<TenantRepository>('tenants', {
    findForAdmin: async () => (reads++ === 0 ? opts.tenant : (opts.afterRemove ?? null)),
    markDeleted: async () => (opts.tenant ? { ...opts.tenant, deletedAt: opts.tenant.deletedAt ?? DELETED_AT } : null),
    remove: async () => removed.shift() ?? true,
  });
  const files = strictMock<FileRepository>('files', {
    usage: async () => holding(opts.held ?? 0),
    findOfTenant: async () => batches.shift() ?? [],
  });
  const lifecycle = strictMock<FileLifecycle>('lifecycle', { abort: async (file) => file, delete: async (file) => file });
  const service = new TenantDeletionService(tenants, files, lifecycle);
  return { service, tenants, files, lifecycle };
}

describe('TenantDeletionService', () => {
  beforeEach(() => jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined));

  it('refuses, without force, a tenant that still holds files: a 409 naming them, nothing marked or removed', async () => {
    const { service, tenants, files, lifecycle } = setup({ tenant: adminTenant(null), held: 3 });
    const refused = await service.delete(TEST_TENANT_ID, false).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(DomainError);
    expect(refused).toMatchObject({ code: 'conflict', extra: { files: 3 } });
    expect(callsInOrder({ tenants, files, lifecycle }).map(([call]) => call)).toEqual(['tenants.findForAdmin', 'files.usage']);
  });

  it('answers 404 for a tenant that does not exist', async () => {
    const { service } = setup({ tenant: null });
    await expect(service.delete(TEST_TENANT_ID, true)).rejects.toMatchObject({ code: 'not_found' });
  });

  it('with force: marks the tenant first, ends each file as its owner would (uploads aborted, stored files deleted), then removes the tenant', async () => {
    const uploading = aFile({ status: 'uploading' });
    const ready = aFile({ status: 'ready' });
    const failed = aFile({ status: 'failed' });
    const { service, tenants, files, lifecycle } = setup({ tenant: adminTenant(null), held: 3, batches: [[uploading, ready, failed]] });
    await expect(service.delete(TEST_TENANT_ID, true)).resolves.toEqual({
      id: TEST_TENANT_ID,
      status: 'deleted',
      deletedAt: DELETED_AT.toISOString(),
      remainingFiles: 0,
    });
    expect(callsInOrder({ tenants, files, lifecycle })).toEqual([
      ['tenants.findForAdmin', TEST_TENANT_ID],
      ['tenants.markDeleted', TEST_TENANT_ID],
      ['files.findOfTenant', TEST_TENANT_ID, LIVE, 100],
      ['lifecycle.abort', uploading, 'aborted_by_client'],
      ['lifecycle.delete', ready],
      ['lifecycle.delete', failed],
      ['files.findOfTenant', TEST_TENANT_ID, LIVE, 100],
      ['tenants.remove', TEST_TENANT_ID, LIVE],
    ]);
    // Every live status is ended by one of the two intents.
    expect([...AWAITING_BYTES, ...STORED].sort()).toEqual([...LIVE].sort());
  });

  it('continues a deletion already begun without force, and goes another round when a file arrived before the removal', async () => {
    const late = aFile({ status: 'pending' });
    const { service, tenants, lifecycle } = setup({
      tenant: adminTenant(DELETED_AT),
      batches: [[], [late], []],
      removed: [false, true],
      afterRemove: adminTenant(DELETED_AT),
    });
    await expect(service.delete(TEST_TENANT_ID, false)).resolves.toMatchObject({ status: 'deleted', deletedAt: DELETED_AT.toISOString() });
    expect(lifecycle.abort).toHaveBeenCalledWith(late, 'aborted_by_client');
    expect(tenants.remove).toHaveBeenCalledTimes(2);
  });

  it('answers deleted when a DELETE beside it removed the tenant first', async () => {
    const { service, tenants } = setup({ tenant: adminTenant(DELETED_AT), removed: [false], afterRemove: null });
    await expect(service.delete(TEST_TENANT_ID, true)).resolves.toMatchObject({ status: 'deleted', remainingFiles: 0 });
    expect(tenants.remove).toHaveBeenCalledTimes(1);
  });

  it('stops when its time budget is spent and answers deleting with the files that remain (the same DELETE continues)', async () => {
    const batch = Array.from({ length: 100 }, () => aFile({ status: 'ready' }));
    const { service, tenants, lifecycle } = setup({ tenant: adminTenant(null), held: 150, batches: [batch, batch] });
    await expect(service.delete(TEST_TENANT_ID, true, 0)).resolves.toEqual({
      id: TEST_TENANT_ID,
      status: 'deleting',
      deletedAt: DELETED_AT.toISOString(),
      remainingFiles: 150,
    });
    expect(lifecycle.delete).toHaveBeenCalledTimes(100);
    expect(tenants.remove).not.toHaveBeenCalled();
  });
});
