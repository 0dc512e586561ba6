import { Injectable, Logger } from '@nestjs/common';
import { DomainError, TenantDeletion } from '@app/contracts';
import { FileRecord, FileRepository, TenantRepository } from '@app/database';
import { AWAITING_BYTES, FileLifecycle, isIn, LIVE } from '@app/lifecycle';
import { QUOTA_HOLDING, tenantNotFound } from './tenants.service';

/** How long one DELETE request works on a tenant's files before it answers 202 (proxies cut longer requests). */
export const DELETION_BUDGET_MS = 10_000;
/** Files read per round, and moved at once within it. */
const BATCH = 100;
const PARALLEL = 8;

/**
 * Deleting a tenant (issue #13), in this order:
 * 1. without `force`, a tenant that still holds files is refused (409 conflict): deleting a team's
 *    files is never a side effect of a mistyped id;
 * 2. the tenant is marked deleted: from then on its API keys and user tokens are refused (within
 *    API_KEY_CACHE_SECONDS, see CredentialsService) and it can start no upload;
 * 3. its files leave through the file lifecycle, each as its owner's own delete or abort would
 *    (quota freed, objects removed once no file refers to them, `file.deleted` / `upload.aborted`
 *    in the owners' feeds and webhooks);
 * 4. once it holds no live file, the tenant row goes, and with it its keys, quota, webhooks,
 *    change feed and the rows of its ended files.
 * A request works for DELETION_BUDGET_MS at most, then answers 202 with what remains; the same
 * DELETE continues (a tenant being deleted needs no `force` again). Every step is idempotent, so
 * a request cut short, or two at once, leave nothing half done that the next one does not finish.
 */
@Injectable()
export class TenantDeletionService {
  private readonly logger = new Logger(TenantDeletionService.name);

  constructor(
    private readonly tenants: TenantRepository,
    private readonly files: FileRepository,
    private readonly lifecycle: FileLifecycle,
  ) {}

  async delete(id: string, force: boolean, budgetMs = DELETION_BUDGET_MS): Promise<TenantDeletion> {
    const started = Date.now();
    const tenant = await this.tenants.findForAdmin(id);
    if (!tenant) throw tenantNotFound();
    if (!tenant.deletedAt && !force) {
      const { files } = await this.files.usage({ tenantId: id }, QUOTA_HOLDING);
      if (files > 0n) {
        throw new DomainError('conflict', `This tenant still holds ${files} files. Delete it with ?force=true to remove them with it.`, {
          files: Number(files),
        });
      }
    }
    const marked = await this.tenants.markDeleted(id);
    if (!marked?.deletedAt) throw tenantNotFound();
    if (!tenant.deletedAt) this.logger.warn({ tenantId: id, force }, 'tenant deletion started');
    const deletedAt = marked.deletedAt.toISOString();
    for (;;) {
      const batch = await this.files.findOfTenant(id, LIVE, BATCH);
      if (batch.length === 0) {
        if (await this.tenants.remove(id, LIVE)) {
          this.logger.warn({ tenantId: id }, 'tenant deleted');
          return { id, status: 'deleted', deletedAt, remainingFiles: 0 };
        }
        // Removed by a DELETE running beside this one; or a file arrived after the read (an
        // initiation through a key still cached somewhere): another round.
        if (!(await this.tenants.findForAdmin(id))) return { id, status: 'deleted', deletedAt, remainingFiles: 0 };
      } else {
        await this.endAll(batch);
      }
      if (Date.now() - started >= budgetMs) break;
    }
    const { files } = await this.files.usage({ tenantId: id }, QUOTA_HOLDING);
    return { id, status: 'deleting', deletedAt, remainingFiles: Number(files) };
  }

  /** Each file as its owner would end it: an upload in progress aborted, a stored file deleted. */
  private async endAll(files: FileRecord[]): Promise<void> {
    for (let i = 0; i < files.length; i += PARALLEL) {
      await Promise.all(
        files
          .slice(i, i + PARALLEL)
          .map((file) => (isIn(AWAITING_BYTES, file.status) ? this.lifecycle.abort(file, 'aborted_by_client') : this.lifecycle.delete(file))),
      );
    }
  }
}
