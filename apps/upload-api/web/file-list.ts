// The owner's files: the first page of GET /v1/files, then kept current by the change feed
// (sync-notifier's WebSocket, through the SDK's ChangeFeed), with thumbnails and posters fetched
// as they become ready, and download and delete.
import type { FileStatusName } from '@app/contracts';
import { Change, ChangeFeed } from '@app/sdk';
import { isIn, STORED } from '../../../libs/lifecycle/src/state-machine';
import { announce, h } from './dom';
import { FilesApi, FileView } from './files-api';
import { formatBytes } from './format';

/** Changes that end a file: no need to ask the API. */
const GONE = new Set(['file.deleted', 'file.rejected', 'upload.aborted', 'upload.expired']);

interface Entry {
  file: FileView;
  element: HTMLLIElement;
  /** A thumbnail fetched with the token as a blob (a file without a link), revoked when its row goes. */
  thumbBlobUrl: string | null;
}

export class FileList {
  private readonly entries = new Map<string, Entry>();
  private feed: ChangeFeed | null = null;
  private nextCursor: string | null = null;
  private readonly thumbsLoading = new Set<string>();

  constructor(
    private readonly api: FilesApi,
    private readonly list: HTMLUListElement,
    private readonly empty: HTMLElement,
    private readonly more: HTMLButtonElement,
    private readonly feedStatus: HTMLElement,
  ) {
    more.addEventListener('click', () => void this.loadPage(this.nextCursor ?? undefined));
  }

  async start(syncUrl: string, token: () => string, cursorKey: string): Promise<void> {
    await this.loadPage();
    this.feed = new ChangeFeed({
      baseUrl: syncUrl,
      token,
      cursor: localStorage.getItem(cursorKey) ?? undefined,
      onChange: async (change) => {
        await this.apply(change);
        localStorage.setItem(cursorKey, change.cursor);
      },
      onCursorExpired: async () => {
        this.clear();
        await this.loadPage();
      },
      onStatus: (status) => {
        this.feedStatus.textContent = status === 'connected' ? 'Live' : 'Reconnecting…';
        this.feedStatus.dataset.status = status;
      },
    });
    this.feed.start();
  }

  async stop(): Promise<void> {
    await this.feed?.stop();
    this.clear();
  }

  private async loadPage(cursor?: string): Promise<void> {
    const page = await this.api.list(cursor);
    for (const file of page.items) this.upsert(file);
    this.nextCursor = page.nextCursor;
    this.more.hidden = !page.nextCursor;
  }

  private async apply(change: Change): Promise<void> {
    if (!change.fileId || change.type === 'upload.created') return;
    if (GONE.has(change.type)) return this.remove(change.fileId);
    const known = this.entries.get(change.fileId);
    // Replaying history: a file the list already shows as ready needs no new read.
    if (known?.file.status === 'ready' && change.type !== 'file.variant_added') return;
    const file = await this.api.get(change.fileId);
    if (!file || !isIn(STORED, file.status as FileStatusName)) return this.remove(change.fileId);
    if (!known && file.status === 'ready') announce(`${file.filename} is ready.`);
    this.upsert(file);
  }

  private upsert(file: FileView): void {
    const previous = this.entries.get(file.id);
    const entry: Entry = { file, element: this.render(file), thumbBlobUrl: previous?.thumbBlobUrl ?? null };
    if (previous) previous.element.replaceWith(entry.element);
    else this.insertSorted(entry);
    this.entries.set(file.id, entry);
    this.empty.hidden = this.entries.size > 0;
    if (entry.thumbBlobUrl) this.showThumb(entry, entry.thumbBlobUrl);
    else void this.loadThumb(entry);
  }

  private insertSorted(entry: Entry): void {
    const after = [...this.entries.values()].find((e) => e.file.createdAt < entry.file.createdAt);
    if (after) this.list.insertBefore(entry.element, after.element);
    else this.list.append(entry.element);
  }

  private remove(id: string): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    entry.element.remove();
    if (entry.thumbBlobUrl) URL.revokeObjectURL(entry.thumbBlobUrl);
    this.entries.delete(id);
    this.empty.hidden = this.entries.size > 0;
  }

  private clear(): void {
    for (const id of [...this.entries.keys()]) this.remove(id);
  }

  /** A thumbnail (images) or poster (video), once media-processor made it. */
  private async loadThumb(entry: Entry): Promise<void> {
    // The File view's own link: cacheable and the same for a while, so the browser (and a CDN) keep it.
    const link = entry.file.thumbUrl ?? entry.file.posterUrl;
    if (link) return this.showThumb(entry, link);
    const variant = entry.file.variants.find((v) => v.name === 'thumb') ?? entry.file.variants.find((v) => v.name === 'poster');
    if (!variant || this.thumbsLoading.has(entry.file.id)) return;
    this.thumbsLoading.add(entry.file.id);
    try {
      const blob = await this.api.content(entry.file.id, variant.name);
      const current = this.entries.get(entry.file.id);
      if (!current) return;
      current.thumbBlobUrl = URL.createObjectURL(blob);
      this.showThumb(current, current.thumbBlobUrl);
    } catch {
      // No thumbnail is not an error worth a message: the row keeps its placeholder.
    } finally {
      this.thumbsLoading.delete(entry.file.id);
    }
  }

  private showThumb(entry: Entry, url: string): void {
    const img = h('img', { src: url, alt: `Preview of ${entry.file.filename}`, class: 'thumb-img' });
    entry.element.querySelector('.thumb')?.replaceChildren(img);
  }

  private render(file: FileView): HTMLLIElement {
    const status = file.status === 'ready' ? 'Ready' : file.status === 'failed' ? 'Processing failed' : 'Processing…';
    return h(
      'li',
      { class: 'file', 'data-file-id': file.id, 'data-status': file.status },
      h('div', { class: 'thumb' }, h('span', { class: 'thumb-placeholder', 'aria-hidden': 'true' }, typeLabel(file.contentType))),
      h(
        'div',
        { class: 'file-info' },
        h('span', { class: 'file-name' }, file.filename),
        h('span', { class: 'file-meta' }, `${formatBytes(file.size)} · ${status}`),
      ),
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'button', 'aria-label': `Download ${file.filename}`, onclick: () => void this.download(file) }, 'Download'),
        h('button', { type: 'button', class: 'danger', 'aria-label': `Delete ${file.filename}`, onclick: () => void this.delete(file) }, 'Delete'),
      ),
    );
  }

  private async download(file: FileView): Promise<void> {
    const blob = await this.api.content(file.id, undefined, 'attachment');
    const url = URL.createObjectURL(blob);
    const link = h('a', { href: url, download: file.filename });
    document.body.append(link);
    link.click();
    link.remove();
    window.setTimeout(() => URL.revokeObjectURL(url), 60_000);
  }

  private async delete(file: FileView): Promise<void> {
    if (!window.confirm(`Delete ${file.filename}?`)) return;
    await this.api.delete(file.id);
    this.remove(file.id);
    announce(`${file.filename} deleted.`);
  }
}

function typeLabel(contentType: string): string {
  const [type, sub = ''] = contentType.split('/');
  if (type === 'image' || type === 'video' || type === 'audio' || type === 'text') return type;
  return ['pdf', 'zip', 'json'].includes(sub) ? sub : 'file';
}
