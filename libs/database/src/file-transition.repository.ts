import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG } from '@app/config';
import type { DatabaseEnv } from '@app/config';
import type { ChangeType, FileStatusName } from '@app/contracts';
import { APPENDED, AppendedRow, appendChangeCtes } from './change-append.sql';
import type { Tx } from './change-event.repository';
import { ChangeOutbox } from './change-outbox';
import { FILE_COLUMNS } from './file-columns.sql';
import { Prisma } from './generated/prisma/client';
import { admitQuota, admitQuotaSql, applyQuotaDelta, pickStripe, QuotaDelta, QuotaEffect, quotaDelta, rebalanceQuota } from './quota.sql';
import type { FilePatch, FileRecord, FileWithVariants, NewUpload, JsonObject } from './records';
import { PrismaService } from './prisma.service';
import { StorageEventRecord, StorageEventRepository } from './storage-event.repository';

/**
 * One step of the state machine, fully decided by libs/lifecycle before it reaches SQL: plain data,
 * no callbacks, so the whole step (guarded update, quota, change and outbox rows) can become a
 * single statement without its callers changing.
 */
export interface TransitionPlan {
  fileId: string;
  from: readonly FileStatusName[];
  to: FileStatusName;
  /** The quota effect for each status the step may leave (none where absent). */
  quota: Partial<Record<FileStatusName, QuotaEffect>>;
  patch: FilePatch;
  /** The change to append; its data gets the new `status` first. */
  change: { type: ChangeType; data: Record<string, unknown> } | null;
}

export interface NewChangeData {
  type: ChangeType;
  data: Record<string, unknown>;
}

/**
 * The writes that move files through their lifecycle. Each method is one transaction of the
 * change outbox: the file rows, the tenant's quota and the owner's change feed (with its webhook
 * deliveries) commit together or not at all, and a step that finds the row in another status
 * changes nothing.
 */
@Injectable()
export class FileTransitionRepository {
  constructor(
    private readonly prisma: PrismaService,
    private readonly outbox: ChangeOutbox,
    private readonly events: StorageEventRepository,
    @Inject(APP_CONFIG) config: Pick<DatabaseEnv, 'QUOTA_STRIPES'>,
  ) {
    this.stripes = config.QUOTA_STRIPES;
  }

  private readonly stripes: number;

  /** Applies a step; null when the file was not in one of its `from` statuses (nothing changed). */
  async apply(plan: TransitionPlan): Promise<FileRecord | null> {
    return this.outbox.transaction((tx) => this.applyIn(tx, plan));
  }

  /**
   * The steps a batch of storage events causes, in one transaction with the events' dedup records
   * (one INSERT for all of them; the ledger check is that write): an event recorded before changes
   * nothing and answers `duplicate`; a null plan only records its event. A failed commit records
   * nothing, so the redelivery does the work. One answer per step, in order.
   */
  async applyForEvents(
    steps: ReadonlyArray<{ event: StorageEventRecord; plan: TransitionPlan | null }>,
  ): Promise<Array<{ duplicate: boolean; file: FileRecord | null }>> {
    return this.outbox.transaction(async (tx) => {
      const recordedNow = await this.events.recordNew(
        steps.map((step) => step.event),
        tx,
      );
      // A second copy of an event in the same batch is a duplicate of the first.
      const fresh = steps.map(({ event }) => recordedNow.delete(event.eventKey));
      const plans = steps.flatMap(({ plan }, i) => (fresh[i] && plan ? [plan] : []));
      const applied = await this.applyAll(tx, plans);
      let next = 0;
      return steps.map(({ plan }, i) => ({ duplicate: !fresh[i], file: fresh[i] && plan ? applied[next++] : null }));
    });
  }

  /**
   * Reserves quota and records a new upload with its change, in one statement: the conditional
   * quota UPDATE (which locks the tenant's quota row), the file row, the owner's sequence, the
   * change and its webhook deliveries, committed at once. The quota row stays locked for that one
   * round trip only, so one tenant's initiations do not queue behind each other's round trips.
   * Returns null (and writes nothing) when the reservation would exceed the tenant's quota: the
   * check and the increment are one UPDATE, so concurrent initiations cannot overshoot.
   */
  async createUpload(upload: NewUpload, status: FileStatusName, change: NewChangeData): Promise<FileRecord | null> {
    const stripe = pickStripe(this.stripes);
    const statement = Prisma.sql`
      WITH admitted AS (${admitQuotaSql(upload.tenantId, stripe, { reserve: upload.size })}),
      inserted AS (
        INSERT INTO files (id, tenant_id, owner_id, filename, content_type, size, size_declared, declared_sha256, storage_key, mode,
                           part_size, part_count, checksum_algorithm, metadata, request_id, expires_at, status, quota_stripe, updated_at)
        SELECT ${upload.id}::uuid, admitted.tenant_id, ${upload.ownerId}::text, ${upload.filename}::text, ${upload.contentType}::text,
               ${upload.size}::bigint, ${upload.sizeDeclared ?? true}::boolean, ${upload.declaredSha256}::text, ${upload.storageKey}::text, ${upload.mode}::upload_mode,
               ${upload.partSize}::bigint, ${upload.partCount}::int, ${upload.checksumAlgorithm}::text,
               ${upload.metadata === undefined ? null : JSON.stringify(upload.metadata)}::jsonb, ${upload.requestId ?? null}::text, ${upload.expiresAt}::timestamptz,
               ${status}::file_status, ${stripe}::smallint, now()
        FROM admitted
        RETURNING ${FILE_COLUMNS}
      ),
      src AS (SELECT "tenantId"::uuid AS tenant_id, "ownerId" AS owner_id, "id"::uuid AS file_id FROM inserted),
      ${appendChangeCtes('src', change)}
      SELECT inserted.*, ${APPENDED} FROM inserted`;
    const create = async (db: Pick<Tx, '$queryRaw'>) => (await db.$queryRaw<Array<FileRecord & AppendedRow>>(statement))[0];
    // The stripe's allotment is usually enough; when not, the same statement after a rebalance.
    const row =
      (await create(this.prisma)) ??
      (await this.prisma.$transaction(async (tx) => ((await rebalanceQuota(tx, upload.tenantId, stripe, this.stripes, upload.size)) ? create(tx) : undefined)));
    if (!row) return null;
    const { change_id: _id, change_seq: _seq, change_created_at: _at, delivery_ids: _ids, ...file } = row;
    await this.outbox.published([this.outbox.committed({ tenantId: file.tenantId, ownerId: file.ownerId, fileId: file.id, ...change }, row)]);
    return file;
  }

  /**
   * A new file sharing `source`'s stored object and variants (no bytes move), in `status`. Its
   * size is charged to the quota like any stored file (null, writing nothing, when that exceeds it).
   */
  async createCopy(
    source: FileWithVariants,
    copy: { id: string; ownerId: string; filename: string; metadata: JsonObject | undefined },
    status: FileStatusName,
    changes: NewChangeData[],
  ): Promise<FileRecord | null> {
    return this.outbox.transaction(async (tx) => {
      const stripe = pickStripe(this.stripes);
      if (!(await admitQuota(tx, source.tenantId, stripe, this.stripes, { use: source.size }))) return null;
      const now = new Date();
      const file = await tx.file.create({
        data: {
          id: copy.id,
          tenantId: source.tenantId,
          ownerId: copy.ownerId,
          filename: copy.filename,
          contentType: source.contentType,
          detectedType: source.detectedType,
          size: source.size,
          declaredSha256: source.sha256,
          sha256: source.sha256,
          storageKey: source.storageKey,
          mode: source.mode,
          status,
          quotaStripe: stripe,
          statusReason: `deduplicated:${source.id}`,
          metadata: copy.metadata,
          etag: source.etag,
          width: source.width,
          height: source.height,
          durationMs: source.durationMs,
          placeholder: source.placeholder,
          mediaInfo: source.mediaInfo ?? undefined,
          expiresAt: now,
          uploadedAt: now,
          readyAt: now,
          variants: {
            create: source.variants.map(({ name, storageKey, contentType, size, width, height, durationMs }) => ({
              name,
              storageKey,
              contentType,
              size,
              width,
              height,
              durationMs,
            })),
          },
        },
      });
      for (const change of changes) {
        await this.outbox.append(tx, { tenantId: file.tenantId, ownerId: file.ownerId, type: change.type, fileId: file.id, data: change.data });
      }
      return file;
    });
  }

  /**
   * An upload of unknown size learns it (storage shows its object, or completion its parts): the
   * size is set and reserved against the quota in one transaction, so from here on the upload is
   * like any other and its steps (`confirmUploaded` commits the reservation) need nothing new.
   * Only while it still waits for its bytes and its size is unknown: answers the file as it is
   * then (a repeat finds it sized already; a file that moved on is answered as it is), or
   * `quota_exceeded` when the size does not fit the tenant's quota (nothing written), or null
   * when there is no such file.
   */
  async declareSize(fileId: string, size: bigint, awaiting: readonly FileStatusName[]): Promise<FileRecord | 'quota_exceeded' | null> {
    return this.prisma.$transaction(async (tx) => {
      const [file] = await tx.$queryRaw<LockedFile[]>`
        SELECT ${LOCKED_COLUMNS} FROM files
        WHERE id = ${fileId}::uuid AND NOT size_declared AND status::text = ANY(${[...awaiting]}::text[]) FOR UPDATE`;
      if (!file) return tx.file.findUnique({ where: { id: fileId } });
      if (!(await admitQuota(tx, file.tenantId, file.stripe, this.stripes, { reserve: size }))) return 'quota_exceeded';
      return tx.file.update({ where: { id: fileId }, data: { size, sizeDeclared: true } });
    });
  }

  /**
   * Applies a step that ends a file's hold on its objects, and says which stored objects no file in
   * a `live` status refers to any more. The rows sharing its object are locked first, so two
   * copies deleted at once cannot both believe the other still holds it (an object shared by
   * instant uploads is removed with its last reference).
   */
  async applyAndRelease(plan: TransitionPlan, live: readonly FileStatusName[]): Promise<{ file: FileRecord; orphanKeys: string[] } | null> {
    return this.outbox.transaction(async (tx) => {
      const current = await tx.file.findUnique({ where: { id: plan.fileId }, include: { variants: true } });
      if (!current) return null;
      await tx.$queryRaw`SELECT id FROM files WHERE storage_key = ${current.storageKey} ORDER BY id FOR UPDATE`;
      const file = await this.applyIn(tx, plan);
      if (!file) return null;
      const keys = [current.storageKey, ...current.variants.map((v) => v.storageKey)];
      const orphanKeys: string[] = [];
      for (const key of keys) {
        const fileRefs = await tx.file.count({ where: { storageKey: key, status: { in: [...live] } } });
        const variantRefs = await tx.variant.count({ where: { storageKey: key, file: { status: { in: [...live] } } } });
        if (fileRefs + variantRefs === 0) orphanKeys.push(key);
      }
      return { file, orphanKeys };
    });
  }

  /**
   * The guarded step: the row is locked only if it is in a `from` status, so the quota effect is
   * the one for the status it really leaves (a step may leave several with different effects).
   * Locks in the order every writer takes them: the file, its quota stripe, its owner's sequence.
   */
  private async applyIn(tx: Tx, plan: TransitionPlan): Promise<FileRecord | null> {
    const [current] = await tx.$queryRaw<LockedFile[]>`
      SELECT ${LOCKED_COLUMNS} FROM files WHERE id = ${plan.fileId}::uuid AND status::text = ANY(${[...plan.from]}::text[]) FOR UPDATE`;
    if (!current) return null;
    const effect = plan.quota[current.status];
    if (effect) await applyQuotaDelta(tx, current.tenantId, current.stripe, quotaDelta(effect, current.size));
    return this.write(tx, plan);
  }

  /**
   * Several steps in one transaction, each as `applyIn` would apply it in turn (a step sees the
   * status the one before left), with the locks in the same order as everywhere else so that
   * concurrent batches and initiations cannot deadlock: the files (by id), then the quota stripes
   * the steps move (by tenant and stripe, each once with the sum of its effects), then the
   * owners' sequences (steps written by tenant and owner; a file's steps keep their order).
   */
  private async applyAll(tx: Tx, plans: readonly TransitionPlan[]): Promise<Array<FileRecord | null>> {
    if (plans.length === 0) return [];
    const ids = [...new Set(plans.map((plan) => plan.fileId))];
    const locked = new Map(
      (await tx.$queryRaw<LockedFile[]>`SELECT ${LOCKED_COLUMNS} FROM files WHERE id = ANY(${ids}::uuid[]) ORDER BY id FOR UPDATE`).map((file) => [
        file.id,
        file,
      ]),
    );
    const deltas = new Map<string, { tenantId: string; stripe: number; delta: QuotaDelta }>();
    const applies = plans.map((plan) => {
      const file = locked.get(plan.fileId);
      if (!file || !plan.from.includes(file.status)) return null;
      const effect = plan.quota[file.status];
      if (effect) {
        const key = `${file.tenantId}/${String(file.stripe).padStart(5, '0')}`;
        const sum = deltas.get(key) ?? { tenantId: file.tenantId, stripe: file.stripe, delta: { reserved: 0n, used: 0n } };
        const { reserved, used } = quotaDelta(effect, file.size);
        sum.delta = { reserved: sum.delta.reserved + reserved, used: sum.delta.used + used };
        deltas.set(key, sum);
      }
      file.status = plan.to;
      return file;
    });
    for (const key of [...deltas.keys()].sort()) {
      const { tenantId, stripe, delta } = deltas.get(key)!;
      await applyQuotaDelta(tx, tenantId, stripe, delta);
    }
    const order = plans
      .map((plan, i) => ({ plan, i, file: applies[i] }))
      .filter((step) => step.file)
      .sort((a, b) => compare(a.file!.tenantId, b.file!.tenantId) || compare(a.file!.ownerId, b.file!.ownerId) || a.i - b.i);
    const results: Array<FileRecord | null> = plans.map(() => null);
    for (const { plan, i } of order) results[i] = await this.write(tx, plan);
    return results;
  }

  /** The step's file row and change, on a row already locked in a `from` status. */
  private async write(tx: Tx, plan: TransitionPlan): Promise<FileRecord> {
    const file = await tx.file.update({
      where: { id: plan.fileId },
      data: { ...plan.patch, mediaInfo: plan.patch.mediaInfo, status: plan.to, statusChangedAt: new Date() },
    });
    if (plan.change) {
      await this.outbox.append(tx, {
        tenantId: file.tenantId,
        ownerId: file.ownerId,
        type: plan.change.type,
        fileId: file.id,
        data: { status: file.status, ...plan.change.data },
      });
    }
    return file;
  }
}

/** What a step needs of the file it locks. */
interface LockedFile {
  id: string;
  tenantId: string;
  ownerId: string;
  status: FileStatusName;
  size: bigint;
  stripe: number;
}

const LOCKED_COLUMNS = Prisma.raw(
  `id::text AS "id", tenant_id::text AS "tenantId", owner_id AS "ownerId", status::text AS "status", size, quota_stripe AS "stripe"`,
);

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
