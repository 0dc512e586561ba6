// One file being uploaded: its row (progress bar, bytes, speed, time left) and its controls
// (pause, resume, cancel, retry), driving one SDK Upload. The row keeps the upload's id in
// IndexedDB while it is unfinished, so a reload can continue it (pending-store.ts).
import { fromBlob, Upload, UploadApiError, UploadClient, UploadProgress } from '@app/sdk';
import { announce, h } from './dom';
import { formatBytes, formatEta, formatSpeed, SpeedMeter } from './format';
import { PendingUpload, pendingStore } from './pending-store';

type RowState = 'needs-file' | 'uploading' | 'paused' | 'done' | 'failed' | 'cancelled';

export interface RowContext {
  client: UploadClient;
  ownerKey: string;
  /** Opens the file picker (a row restored after a reload asks for its file again). */
  pickFiles(): void;
  /** The row is finished with (cancelled, discarded, or done and cleared). */
  onRemoved(row: UploadRow): void;
}

export class UploadRow {
  readonly element: HTMLLIElement;
  private state: RowState = 'uploading';
  private upload: Upload | null = null;
  private uploadId: string | null;
  private file: File | null = null;
  private bytes = 0;
  /** The IndexedDB write of this upload's id: a removal waits for it. */
  private saved: Promise<void> = Promise.resolve();
  private readonly speed = new SpeedMeter();
  private readonly bar: HTMLDivElement;
  private readonly fill: HTMLDivElement;
  private readonly status: HTMLParagraphElement;
  private readonly actions: HTMLDivElement;

  private constructor(
    private readonly ctx: RowContext,
    readonly name: string,
    readonly size: number,
    readonly lastModified: number,
    uploadId: string | null,
  ) {
    this.uploadId = uploadId;
    this.fill = h('div', { class: 'bar-fill' });
    this.bar = h(
      'div',
      { class: 'bar', role: 'progressbar', 'aria-label': `Upload of ${name}`, 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': 0 },
      this.fill,
    );
    this.status = h('p', { class: 'upload-status' });
    this.actions = h('div', { class: 'actions' });
    this.element = h(
      'li',
      { class: 'upload' },
      h('div', { class: 'upload-head' }, h('span', { class: 'upload-name' }, name), h('span', { class: 'upload-size' }, formatBytes(size))),
      this.bar,
      this.status,
      this.actions,
    );
  }

  /** A new upload of a picked or dropped file. */
  static start(ctx: RowContext, file: File, filename: string): UploadRow {
    const row = new UploadRow(ctx, filename, file.size, file.lastModified, null);
    row.file = file;
    row.run();
    return row;
  }

  /** An upload left unfinished by an earlier page: shown until its file is picked again. */
  static restored(ctx: RowContext, pending: PendingUpload, bytesStored: number): UploadRow {
    const row = new UploadRow(ctx, pending.name, pending.size, pending.lastModified, pending.uploadId);
    row.bytes = bytesStored;
    row.setState('needs-file');
    return row;
  }

  get isWaitingForFile(): boolean {
    return this.state === 'needs-file';
  }

  matches(file: File, filename: string): boolean {
    return this.name === filename && this.size === file.size && this.lastModified === file.lastModified;
  }

  /** The file of a restored row, picked again: only the parts storage lacks are sent. */
  continueWith(file: File): void {
    this.file = file;
    this.run();
  }

  private run(): void {
    const file = this.file!;
    const options = { onProgress: (p: UploadProgress) => this.progress(p) };
    this.upload = this.uploadId
      ? this.ctx.client.resume(this.uploadId, fromBlob(file), options)
      : this.ctx.client.upload(fromBlob(file), { ...options, filename: this.name, contentType: file.type || 'application/octet-stream' });
    const upload = this.upload;
    this.speed.reset();
    this.setState('uploading');
    upload.done.then(
      () => this.finished(upload),
      (error: unknown) => this.failed(upload, error),
    );
  }

  private progress(p: UploadProgress): void {
    if (this.upload && !this.uploadId && this.upload.id) {
      this.uploadId = this.upload.id;
      this.saved = pendingStore
        .put({
          uploadId: this.uploadId,
          name: this.name,
          size: this.size,
          lastModified: this.lastModified,
          ownerKey: this.ctx.ownerKey,
          startedAt: Date.now(),
        })
        .catch(() => undefined); // private browsing without IndexedDB: uploads still work, without resume
    }
    this.bytes = p.bytesUploaded;
    this.speed.sample(p.bytesUploaded);
    this.render();
  }

  private finished(upload: Upload): void {
    if (upload !== this.upload) return;
    this.bytes = this.size;
    this.setState('done');
    this.forget(false);
    announce(`${this.name} uploaded.`);
  }

  private failed(upload: Upload, error: unknown): void {
    if (upload !== this.upload || this.state === 'cancelled') return;
    // An upload the server ended (expired, aborted, storage lost it) cannot be continued: a
    // retry starts again; anything else (network, storage refusing for now) continues it.
    if (error instanceof UploadApiError && [404, 409, 410].includes(error.status)) this.forget();
    this.setState('failed', error instanceof Error ? error.message : String(error));
    announce(`${this.name} failed.`);
  }

  /** Drops the saved id (and, unless the upload finished, the id itself: a retry starts anew). */
  private forget(clearId = true): void {
    const id = this.uploadId;
    if (id) this.saved = this.saved.then(() => pendingStore.delete(id)).catch(() => undefined);
    if (clearId) this.uploadId = null;
  }

  private pause(): void {
    this.upload?.pause();
    this.setState('paused');
  }

  private resume(): void {
    this.upload?.resume();
    this.speed.reset();
    this.setState('uploading');
  }

  private async cancel(): Promise<void> {
    this.setState('cancelled');
    const id = this.uploadId;
    this.forget();
    if (this.upload) await this.upload.abort();
    else if (id) await this.ctx.client.api.abort(id).catch(() => undefined);
    announce(`${this.name} cancelled.`);
  }

  private retry(): void {
    if (this.file) this.run();
  }

  private setState(state: RowState, detail?: string): void {
    this.state = state;
    this.element.dataset.state = state;
    if (state !== 'uploading') this.speed.reset();
    this.render(detail);
    this.renderActions();
  }

  private render(detail?: string): void {
    const percent = this.size === 0 ? (this.state === 'done' ? 100 : 0) : Math.floor((100 * this.bytes) / this.size);
    this.bar.setAttribute('aria-valuenow', String(percent));
    this.bar.setAttribute('aria-valuetext', `${percent}%, ${formatBytes(this.bytes)} of ${formatBytes(this.size)}`);
    this.fill.style.width = `${percent}%`;
    const done = `${formatBytes(this.bytes)} of ${formatBytes(this.size)}`;
    const speed = this.speed.bytesPerSecond();
    switch (this.state) {
      case 'uploading':
        this.status.textContent = speed > 0 ? `${done} · ${formatSpeed(speed)} · ${formatEta((this.size - this.bytes) / speed)}` : `${done} · starting…`;
        break;
      case 'paused':
        this.status.textContent = `Paused · ${done}`;
        break;
      case 'needs-file':
        this.status.textContent = `Interrupted at ${done}. Choose or drop this file again to continue.`;
        break;
      case 'done':
        this.status.textContent = `Uploaded · ${formatBytes(this.size)}`;
        break;
      case 'failed':
        this.status.textContent = `Failed: ${detail ?? 'unknown error'}`;
        break;
      case 'cancelled':
        this.status.textContent = 'Cancelled';
        break;
    }
  }

  private renderActions(): void {
    const button = (label: string, action: () => void, extra: Record<string, string> = {}) =>
      h('button', { type: 'button', 'aria-label': `${label} ${this.name}`, onclick: action, ...extra }, label);
    const buttons: HTMLButtonElement[] = [];
    switch (this.state) {
      case 'uploading':
        buttons.push(
          button('Pause', () => this.pause()),
          button('Cancel', () => void this.cancel()),
        );
        break;
      case 'paused':
        buttons.push(
          button('Resume', () => this.resume()),
          button('Cancel', () => void this.cancel()),
        );
        break;
      case 'needs-file':
        buttons.push(
          button('Choose file', () => this.ctx.pickFiles()),
          button('Discard', () => void this.cancel().then(() => this.ctx.onRemoved(this))),
        );
        break;
      case 'failed':
        buttons.push(
          button('Retry', () => this.retry()),
          button('Cancel', () => void this.cancel()),
        );
        break;
      case 'done':
      case 'cancelled':
        buttons.push(button('Clear', () => this.ctx.onRemoved(this)));
        break;
    }
    // Keep keyboard focus on the row when the button that had it is replaced.
    const hadFocus = this.actions.contains(document.activeElement);
    this.actions.replaceChildren(...buttons);
    if (hadFocus) buttons[0]?.focus();
  }
}
