import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { APP_CONFIG } from '@app/config';
import type { UploadsEnv } from '@app/config';
import {
  CompleteUploadBody,
  CreateUploadBody,
  DomainError,
  MAX_PART_BYTES,
  MAX_PARTS,
  MIN_PART_BYTES,
  PartUrlView,
  SignPartsBody,
  UploadCreated,
  UploadDeduplicated,
  UploadQuery,
  UploadView,
} from '@app/contracts';
import { FilePartRepository, FileRecord, FileRepository, JsonObject, NewUpload, TenantRepository } from '@app/database';
import { checkParts, maxPartNumber, partSizeProblem, planUpload, typeAllowed } from '@app/domain';
import { ABANDONED, ACCEPTING_PARTS, AWAITING_BYTES, FileLifecycle, INITIAL, isIn, TERMINAL, UPLOAD_COMPLETED, UploadMetrics } from '@app/lifecycle';
import { currentRequestId } from '@app/observability';
import { JobQueue } from '@app/queue';
import { FastPresigner, KeyLayout, ObjectStorage, PostPolicySigner, PresignedPost, StoredPart } from '@app/storage';
import type { OwnerScope } from '@app/auth';

const hexToBase64 = (hex: string) => Buffer.from(hex, 'hex').toString('base64');

/** Refusals of an initiation this service decides; the lifecycle counts the quota's itself. */
const INITIATION_REFUSALS = new Set(['validation_failed', 'file_too_large', 'type_not_allowed']);

@Injectable()
export class UploadsService {
  private readonly logger = new Logger(UploadsService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: UploadsEnv,
    private readonly files: FileRepository,
    private readonly lifecycle: FileLifecycle,
    private readonly tenants: TenantRepository,
    private readonly storage: ObjectStorage,
    private readonly presigner: FastPresigner,
    private readonly postPolicy: PostPolicySigner,
    private readonly keys: KeyLayout,
    private readonly jobs: JobQueue,
    private readonly parts: FilePartRepository,
    private readonly uploadMetrics: UploadMetrics = new UploadMetrics(),
  ) {}

  async initiate(scope: OwnerScope, body: CreateUploadBody): Promise<UploadCreated | UploadDeduplicated> {
    try {
      return await this.initiateUpload(scope, body);
    } catch (error) {
      if (error instanceof DomainError && INITIATION_REFUSALS.has(error.code)) this.uploadMetrics.rejectedOne(error.code);
      throw error;
    }
  }

  private async initiateUpload(scope: OwnerScope, body: CreateUploadBody): Promise<UploadCreated | UploadDeduplicated> {
    const partSizeRefusal = body.partSize === undefined ? null : partSizeProblem(body.size, body.partSize);
    if (partSizeRefusal) throw invalidParts(`partSize ${body.partSize} cannot carry ${body.size} bytes.`, [{ field: 'partSize', message: partSizeRefusal }]);
    const formRefusal = body.form ? formProblem(body) : null;
    if (formRefusal) throw invalidParts(`A form upload cannot carry this file: ${formRefusal}.`, [{ field: 'form', message: formRefusal }]);
    const tenant = await this.tenantAccepting(scope, body.contentType);
    if (BigInt(body.size) > tenant.maxFileBytes) throw fileTooLarge(tenant.maxFileBytes);
    if (body.sha256) {
      // Instant upload: the same verified content is already stored in scope. Owner scope by
      // default, the tenant's if it opted in, never across tenants: a hash alone must not hand
      // anyone else's file to a caller.
      const source = await this.files.findDedupSource({
        tenantId: scope.tenantId,
        ownerId: tenant.dedupScope === 'tenant' ? null : scope.ownerId,
        sha256: body.sha256,
        size: BigInt(body.size),
        status: INITIAL.instantCopy,
      });
      if (source) {
        const copy = await this.lifecycle.createInstantCopy(source, {
          id: randomUUID(),
          ownerId: scope.ownerId,
          filename: body.filename,
          metadata: body.metadata as JsonObject | undefined,
        });
        if (!copy) throw new DomainError('quota_exceeded', `This file of ${body.size} bytes would exceed the tenant's storage quota.`);
        this.logger.log({ fileId: copy.id, sourceId: source.id, size: body.size }, 'instant upload (deduplicated)');
        return { id: copy.id, status: 'ready', deduplicated: true, mode: copy.mode, filename: copy.filename, size: body.size, contentType: copy.contentType };
      }
    }
    const plan = planUpload(body.size, {
      // A form POST is one request, whatever the size (up to S3's 5 GiB for a single write).
      multipartThresholdBytes: body.form ? MAX_PART_BYTES : this.config.MULTIPART_THRESHOLD_BYTES,
      minPartBytes: this.config.MIN_PART_BYTES,
      partSize: body.partSize,
    });
    if (body.checksum && plan.mode !== 'multipart') {
      // A single PUT is checked against the whole-file sha256, when declared.
      body = { ...body, checksum: undefined };
    }
    const file = await this.newUpload(scope, {
      filename: body.filename,
      contentType: body.contentType,
      size: BigInt(body.size),
      declaredSha256: body.sha256 ?? null,
      mode: plan.mode,
      partSize: plan.mode === 'multipart' ? BigInt(plan.partSize) : null,
      partCount: plan.mode === 'multipart' ? plan.partCount : null,
      checksumAlgorithm: body.checksum ? 'SHA256' : null,
      metadata: body.metadata as JsonObject | undefined,
      expiresAt: uploadDeadline(body.size, this.config),
    });
    if (!file) throw new DomainError('quota_exceeded', `This upload of ${body.size} bytes would exceed the tenant's storage quota.`);
    const { id, storageKey } = file;
    this.logger.log({ fileId: id, tenantId: scope.tenantId, size: body.size, mode: plan.mode }, 'upload initiated');

    const expiresAt = file.expiresAt.toISOString();
    if (plan.mode === 'single') {
      const signing = { contentType: body.contentType, contentLength: body.size, checksumSha256: body.sha256 ? hexToBase64(body.sha256) : undefined };
      const put = await this.presigner.putObject(storageKey, signing);
      if (body.form) {
        const post = await this.postPolicy.postObject(storageKey, signing);
        return {
          id,
          status: 'pending',
          mode: 'single',
          size: body.size,
          expiresAt,
          upload: { method: 'PUT', url: put.url, headers: put.headers },
          form: { method: 'POST', url: post.url, fields: post.fields },
        };
      }
      return { id, status: 'pending', mode: 'single', size: body.size, expiresAt, upload: { method: 'PUT', url: put.url, headers: put.headers } };
    }

    const uploadId = await this.createMultipartUpload(file);
    // With declared part checksums the client must send them with each signing request; a client
    // that signs part by part (Uppy) asks for none, so no batch of URLs is signed in vain.
    const initial = body.checksum ? 0 : (body.initialPartUrls ?? this.config.INITIAL_PART_URLS);
    const first = await this.signBatch(storageKey, uploadId, range(1, Math.min(plan.partCount, initial)), {});
    return {
      id,
      status: 'pending',
      mode: 'multipart',
      size: body.size,
      partSize: plan.partSize,
      partCount: plan.partCount,
      maxPartNumber: maxPartNumber(body.size),
      expiresAt,
      parts: first,
    };
  }

  /**
   * An upload whose client does not say how large the file is (Uppy through /companion): it holds
   * no quota and has size 0 until storage shows the bytes (`declareSize`), then it is like any
   * other. A single one is a form POST whose policy bounds it by the tenant's largest file (and S3's
   * 5 GiB for one write); a multipart one takes any layout of up to 10,000 parts, checked against
   * the tenant's largest file and quota at completion.
   */
  async startUnsized(
    scope: OwnerScope,
    input: { filename: string; contentType: string; metadata: Record<string, unknown> },
    mode: 'single' | 'multipart',
  ): Promise<{ file: FileRecord; form?: PresignedPost }> {
    const tenant = await this.tenantAccepting(scope, input.contentType);
    const atMost = mode === 'single' ? Math.min(Number(tenant.maxFileBytes), MAX_PART_BYTES) : Number(tenant.maxFileBytes);
    const file = await this.newUpload(scope, {
      filename: input.filename,
      contentType: input.contentType,
      size: 0n,
      sizeDeclared: false,
      declaredSha256: null,
      mode,
      partSize: mode === 'multipart' ? BigInt(MIN_PART_BYTES) : null,
      partCount: null,
      checksumAlgorithm: null,
      metadata: input.metadata as JsonObject,
      // As long as the largest file it may be takes (it reserves nothing meanwhile).
      expiresAt: uploadDeadline(atMost, this.config),
    });
    if (!file) throw new DomainError('quota_exceeded', "The tenant's storage quota is used up.");
    const { id, storageKey } = file;
    this.logger.log({ fileId: id, tenantId: scope.tenantId, mode, sizeDeclared: false }, 'upload initiated');
    if (mode === 'multipart') return { file: { ...file, s3UploadId: await this.createMultipartUpload(file) } };
    return { file, form: await this.postPolicy.postObject(storageKey, { contentType: input.contentType, contentLength: { atMost } }) };
  }

  async signParts(scope: OwnerScope, id: string, body: SignPartsBody): Promise<{ parts: PartUrlView[] }> {
    // One read serves both kinds of upload; signing writes nothing once the upload is uploading.
    const found = await this.files.findOwned(scope, id);
    if (found?.mode === 'single') return this.resignSingle(found, body);
    const file = this.activeMultipart(found);
    // Any layout the client chose is signed, up to the most parts a file of this size can have:
    // completion checks what storage holds, not the plan (#14).
    const highest = partLimit(file);
    const beyond = body.partNumbers.filter((n) => n > highest);
    if (beyond.length)
      throw invalidParts(
        `This upload has at most ${highest} parts (parts of at least 5 MiB).`,
        beyond.map((n) => ({ field: `partNumbers`, message: `part ${n} is beyond part ${highest}, the highest allowed` })),
      );
    const checksums = body.checksums ?? {};
    if (file.checksumAlgorithm) {
      const missing = body.partNumbers.filter((n) => !checksums[String(n)]);
      if (missing.length)
        throw invalidParts(
          'This upload was created with part checksums: send one per part.',
          missing.map((n) => ({ field: `checksums.${n}`, message: 'is required' })),
        );
    }
    await this.lifecycle.startUploading(file);
    return { parts: await this.signBatch(file.storageKey, file.s3UploadId!, body.partNumbers, checksums) };
  }

  /** A single-PUT upload is its own part 1: re-signing it lets a client retry after the URL expired. */
  private async resignSingle(file: FileRecord, body: SignPartsBody): Promise<{ parts: PartUrlView[] }> {
    if (!isIn(ACCEPTING_PARTS, file.status)) throw new DomainError('invalid_state', `The upload is ${file.status}.`, { uploadStatus: file.status });
    if (body.partNumbers.length !== 1 || body.partNumbers[0] !== 1) {
      throw invalidParts('A single-PUT upload has exactly one part, number 1.', [{ field: 'partNumbers', message: 'must be [1]' }]);
    }
    const put = await this.presigner.putObject(file.storageKey, {
      contentType: file.contentType,
      contentLength: Number(file.size),
      checksumSha256: file.declaredSha256 ? hexToBase64(file.declaredSha256) : undefined,
    });
    return { parts: [{ partNumber: 1, url: put.url, headers: put.headers, expiresAt: put.expiresAt.toISOString() }] };
  }

  async reportPart(scope: OwnerScope, id: string, partNumber: number, report: { etag: string; size: number }): Promise<void> {
    const file = this.activeMultipart(await this.files.findOwned(scope, id));
    const highest = partLimit(file);
    if (partNumber < 1 || partNumber > highest)
      throw invalidParts(`This upload has at most ${highest} parts (parts of at least 5 MiB).`, [{ field: 'partNumber', message: 'is out of range' }]);
    await this.lifecycle.startUploading(file);
    // The tracker owns the ledger; the report is advisory (ListParts is the truth).
    await this.jobs.enqueue('upload.part-reported', { v: 1, fileId: id, partNumber, etag: report.etag.replace(/"/g, ''), size: report.size });
  }

  async get(scope: OwnerScope, id: string, query: UploadQuery = {}): Promise<UploadView> {
    const file = await this.files.findOwned(scope, id);
    if (!file) throw notFound();
    return this.view(file, query.parts ?? 'storage');
  }

  /**
   * Checks the parts storage holds (contiguous, 5 MiB but the last, adding up to the size; any ETags
   * the client sent), in whatever part size the client chose, then hands
   * completion to chunk-tracker. The file becomes `uploaded` only when storage's own event arrives.
   */
  async complete(
    scope: OwnerScope,
    id: string,
    body: CompleteUploadBody,
  ): Promise<{ status: 200 | 202; body: UploadView | { id: string; status: 'completing' } }> {
    let file = await this.files.findOwned(scope, id);
    if (!file) throw notFound();
    if (isIn(UPLOAD_COMPLETED, file.status)) return { status: 200, body: await this.view(file) };
    if (!isIn(AWAITING_BYTES, file.status)) throw new DomainError('invalid_state', `The upload is ${file.status}.`, { uploadStatus: file.status });

    if (file.mode === 'single') {
      const head = await this.storage.head(file.storageKey);
      if (!head) throw new DomainError('parts_missing', 'Storage holds no object for this upload yet: PUT the file first.', { missingParts: [1] });
      if (file.sizeDeclared === false && !(await this.sizedByStorage(file, head.size))) return this.complete(scope, id, body);
    } else {
      const stored = await this.listedParts(file.storageKey, file.s3UploadId!);
      if (!stored) {
        // Completing: chunk-tracker's completion has taken the upload id; it stands as it is.
        if (file.status === 'completing') return { status: 202, body: { id, status: 'completing' } };
        if (!(await this.lifecycle.uploadLost(file))) return this.complete(scope, id, body); // moved on meanwhile
        throw new DomainError('upload_lost', 'Storage no longer holds this multipart upload, so it cannot be completed: start a new upload.', {
          uploadStatus: 'aborted',
        });
      }
      if (
        file.sizeDeclared === false &&
        !(file = await this.sizedByStorage(
          file,
          stored.reduce((sum, p) => sum + p.size, 0),
        ))
      )
        return this.complete(scope, id, body);
      checkParts(file, stored, body.parts);
      // From here on the upload is viewed from the ledger (status polls cost no ListParts): it holds what was checked.
      await this.parts.recordStored(file.id, stored);
    }
    const moved = await this.lifecycle.markCompleting(id);
    if (!moved) return this.complete(scope, id, body); // raced with another transition: answer from the new state
    await this.jobs.enqueue('upload.complete', { v: 1, fileId: id, parts: body.parts }, { jobId: `complete-${id}` });
    return { status: 202, body: { id, status: 'completing' } };
  }

  /** Abort: idempotent for an upload already ended; a stored file is deleted through /v1/files. */
  async abort(scope: OwnerScope, id: string): Promise<void> {
    const file = await this.files.findOwned(scope, id);
    if (!file) throw notFound();
    if (isIn(ABANDONED, file.status)) return;
    // Storage's part of it (the object or multipart upload) is removed after the commit; a failure
    // there leaves an orphan the reconciler (and the bucket lifecycle rule) remove.
    if (await this.lifecycle.abort(file, 'aborted_by_client')) return;
    // The status moved while we looked: a concurrent abort (or expiry) is this abort done, and
    // anything else is refused with the status it is in now, not the one read before.
    const now = await this.files.findOwned(scope, id);
    if (!now) throw notFound();
    if (isIn(ABANDONED, now.status)) return;
    throw new DomainError('invalid_state', `The upload is ${now.status}; delete the file with DELETE /v1/files/${id}.`, { uploadStatus: now.status });
  }

  /**
   * An upload of unknown size learns it from what storage holds: charged to the quota from here
   * on. Null when it moved on meanwhile (the caller answers from its new state).
   */
  private async sizedByStorage(file: FileRecord, size: number): Promise<FileRecord | null> {
    const tenant = await this.tenantAccepting(file, file.contentType);
    if (BigInt(size) > tenant.maxFileBytes) throw fileTooLarge(tenant.maxFileBytes);
    const sized = await this.lifecycle.declareSize(file, size);
    if (sized === 'quota_exceeded') throw new DomainError('quota_exceeded', `This file of ${size} bytes would exceed the tenant's storage quota.`);
    if (!sized) throw notFound();
    return sized.sizeDeclared && Number(sized.size) === size && isIn(AWAITING_BYTES, sized.status) ? sized : null;
  }

  /** The tenant, if it still exists and takes files of this type. */
  private async tenantAccepting(scope: Pick<OwnerScope, 'tenantId'>, contentType: string) {
    const tenant = await this.tenants.find(scope.tenantId);
    if (!tenant) throw new DomainError('unauthorized', 'The tenant of this credential no longer exists.');
    if (!typeAllowed(contentType, tenant.allowedTypes)) {
      throw new DomainError('type_not_allowed', `Content type ${contentType} is not allowed for this tenant.`, { allowedTypes: tenant.allowedTypes });
    }
    return tenant;
  }

  /** A new upload of the owner under a new id and its object key; null when the quota would be exceeded. */
  private newUpload(scope: OwnerScope, upload: Omit<NewUpload, 'id' | 'tenantId' | 'ownerId' | 'storageKey'>): Promise<FileRecord | null> {
    const id = randomUUID();
    return this.lifecycle.createUpload({
      ...upload,
      // The tracker and media workers log the file's work under the id of the call that began it.
      requestId: currentRequestId() ?? null,
      id,
      tenantId: scope.tenantId,
      ownerId: scope.ownerId,
      storageKey: this.keys.objectKey({ tenantId: scope.tenantId, fileId: id }),
    });
  }

  /** Storage's multipart upload for a new upload, its id recorded; a refusal aborts the upload. */
  private async createMultipartUpload(file: FileRecord): Promise<string> {
    let uploadId: string;
    try {
      uploadId = await this.storage.createMultipartUpload(file.storageKey, { contentType: file.contentType, checksumSha256: Boolean(file.checksumAlgorithm) });
    } catch (error) {
      // Storage refused: hand the reservation back so the failed attempt costs the tenant nothing.
      await this.lifecycle.abort(file, 'storage_unavailable');
      throw error;
    }
    await this.files.setUploadId(file.id, uploadId);
    return uploadId;
  }

  private activeMultipart(file: FileRecord | null): FileRecord {
    if (!file) throw notFound();
    if (file.mode !== 'multipart') throw new DomainError('invalid_state', 'This is a single-PUT upload; it has no parts.', { uploadStatus: file.status });
    if (!isIn(ACCEPTING_PARTS, file.status)) throw new DomainError('invalid_state', `The upload is ${file.status}.`, { uploadStatus: file.status });
    if (!file.s3UploadId) throw new DomainError('invalid_state', 'The upload is not ready for parts yet.', { uploadStatus: file.status });
    return file;
  }

  /** ListParts (paginated past 1,000 parts), or null once storage no longer has the multipart upload. */
  private async listedParts(key: string, uploadId: string): Promise<StoredPart[] | null> {
    try {
      return await this.storage.listParts(key, uploadId);
    } catch (error) {
      if (error instanceof DomainError && error.code === 'not_found') return null;
      throw error;
    }
  }

  private async signBatch(key: string, uploadId: string, partNumbers: number[], checksums: Record<string, string>): Promise<PartUrlView[]> {
    if (partNumbers.length === 0) return [];
    const signed = await this.presigner.uploadParts(
      key,
      uploadId,
      partNumbers.map((partNumber) => ({ partNumber, checksumSha256: checksums[String(partNumber)] })),
    );
    return signed.map((p) => ({ partNumber: p.partNumber, url: p.url, headers: p.headers, expiresAt: p.expiresAt.toISOString() }));
  }

  /**
   * The upload as its client sees it. Its parts come from storage's ListParts only while it still
   * takes parts and the caller did not ask for the ledger: that listing is what a client resumes
   * from. Otherwise (and once completion checked the parts and recorded them) from the part ledger,
   * so status polls cost no storage call.
   */
  private async view(file: FileRecord, partsFrom: 'storage' | 'ledger' = 'ledger'): Promise<UploadView> {
    let parts: Array<{ partNumber: number; size: number; etag: string }> | null = null;
    let storage: 'unknown' | undefined;
    if (file.mode === 'multipart' && partsFrom === 'storage' && isIn(ACCEPTING_PARTS, file.status) && file.s3UploadId) {
      try {
        parts = (await this.listedParts(file.storageKey, file.s3UploadId))?.map((p) => ({ partNumber: p.partNumber, size: p.size, etag: p.etag })) ?? null;
      } catch (error) {
        // An outage: the ledger answers, and says storage could not be asked.
        if (!(error instanceof DomainError && error.code === 'storage_unavailable')) throw error;
        storage = 'unknown';
      }
      // Storage no longer has the multipart upload: it cannot be finished; it ends here.
      if (parts === null && !storage) {
        await this.lifecycle.uploadLost(file);
        return this.view((await this.files.findOwned({ tenantId: file.tenantId, ownerId: file.ownerId }, file.id)) ?? file);
      }
    }
    const from = parts ? 'storage' : 'ledger';
    if (!parts && file.mode === 'multipart') {
      parts = (await this.files.storedParts(file.id)).map((p) => ({ partNumber: p.partNumber, size: Number(p.size), etag: p.etag ?? '' }));
    }
    parts ??= [];
    const stored = isIn(UPLOAD_COMPLETED, file.status);
    return {
      id: file.id,
      status: file.status,
      mode: file.mode,
      filename: file.filename,
      size: Number(file.size),
      ...(file.sizeDeclared === false ? { sizeKnown: false } : {}),
      contentType: file.contentType,
      ...(file.mode === 'multipart' && file.sizeDeclared === false ? { maxPartNumber: MAX_PARTS } : {}),
      ...(file.mode === 'multipart' && file.sizeDeclared !== false
        ? { partSize: Number(file.partSize), partCount: file.partCount!, maxPartNumber: maxPartNumber(Number(file.size)) }
        : {}),
      checksum: file.checksumAlgorithm ? 'sha256' : null,
      uploadedParts: parts,
      partsFrom: from,
      bytesUploaded: stored ? Number(file.size) : parts.reduce((sum, p) => sum + p.size, 0),
      ...(storage ? { storage } : {}),
      ...(isIn(TERMINAL, file.status) && file.statusReason ? { reason: file.statusReason } : {}),
      expiresAt: file.expiresAt.toISOString(),
      createdAt: file.createdAt.toISOString(),
    };
  }
}

/** UPLOAD_EXPIRY_SECONDS, plus the time the bytes take at UPLOAD_EXPIRY_BYTES_PER_SECOND. */
export function uploadDeadline(size: number, config: Pick<UploadsEnv, 'UPLOAD_EXPIRY_SECONDS' | 'UPLOAD_EXPIRY_BYTES_PER_SECOND'>, now = Date.now()): Date {
  const transferSeconds = config.UPLOAD_EXPIRY_BYTES_PER_SECOND > 0 ? Math.ceil(size / config.UPLOAD_EXPIRY_BYTES_PER_SECOND) : 0;
  return new Date(now + (config.UPLOAD_EXPIRY_SECONDS + transferSeconds) * 1000);
}

/** The highest part number signing takes: any layout of the declared size, or S3's 10,000 while the size is unknown. */
function partLimit(file: FileRecord): number {
  return file.sizeDeclared === false ? MAX_PARTS : maxPartNumber(Number(file.size));
}

function fileTooLarge(maxFileBytes: bigint): DomainError {
  return new DomainError('file_too_large', `This tenant accepts files of at most ${maxFileBytes} bytes.`, { maxFileBytes: Number(maxFileBytes) });
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}

function notFound(): DomainError {
  return new DomainError('not_found', 'No such upload.');
}

/** Why a form POST cannot carry this upload, or null: it is one write of at most 5 GiB, never in parts. */
function formProblem(body: CreateUploadBody): string | null {
  if (body.partSize !== undefined) return 'a form POST is one request: it takes no partSize';
  if (body.size > MAX_PART_BYTES) return `a form POST carries at most ${MAX_PART_BYTES} bytes; send larger files in parts`;
  return null;
}

function invalidParts(detail: string, errors: Array<{ field: string; message: string }>): DomainError {
  return new DomainError('validation_failed', detail, { errors });
}
