// The web uploader (issue #14), served by upload-api at /app/: sign in, drop or pick files and
// folders, watch each upload's bytes, pause, resume, cancel, retry, continue after a reload, and
// see the owner's files live. Built on the project's SDK (docs/adr/0021-web-uploader.md).
import type { FileStatusName } from '@app/contracts';
import { UploadClient } from '@app/sdk';
// The state machine's own status sets (type-only imports there, so nothing server-side is bundled).
import { ACCEPTING_PARTS, isIn } from '../../../libs/lifecycle/src/state-machine';
import { announce, byId } from './dom';
import { FilesApi } from './files-api';
import { FileList } from './file-list';
import { pendingStore } from './pending-store';
import { dropTarget, fromInput, PickedFile } from './picker';
import { clearSession, loadSession, saveSession, Session, signIn } from './session';
import { RowContext, UploadRow } from './upload-row';

interface WebConfig {
  /** upload-api's public URL (this page's own origin unless configured otherwise). */
  apiUrl: string;
  /** sync-notifier's public URL, for the change feed. */
  syncUrl: string;
}

async function main(): Promise<void> {
  const config = (await (await fetch('config.json', { cache: 'no-store' })).json()) as WebConfig;
  const apiUrl = (config.apiUrl || location.origin).replace(/\/$/, '');
  const session = loadSession();
  if (session) await openUploader(config, apiUrl, session);
  else showSignIn(apiUrl, config);
}

function showSignIn(apiUrl: string, config: WebConfig): void {
  byId('uploader').hidden = true;
  byId('sign-in').hidden = false;
  const form = byId<HTMLFormElement>('sign-in-form');
  const error = byId('sign-in-error');
  form.onsubmit = async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const token = field(data, 'token');
    const apiKey = field(data, 'apiKey');
    const ownerId = field(data, 'ownerId');
    error.textContent = '';
    if (!token && !(apiKey && ownerId)) {
      error.textContent = 'Enter a user token, or an API key and an owner id.';
      return;
    }
    try {
      const session = await signIn(apiUrl, token ? { token } : { apiKey, ownerId });
      saveSession(session);
      form.reset();
      await openUploader(config, apiUrl, session);
    } catch (e) {
      error.textContent = e instanceof Error ? e.message : String(e);
    }
  };
  byId<HTMLInputElement>('token').focus();
}

function field(data: FormData, name: string): string {
  const value = data.get(name);
  return typeof value === 'string' ? value.trim() : '';
}

async function openUploader(config: WebConfig, apiUrl: string, session: Session): Promise<void> {
  byId('sign-in').hidden = true;
  byId('uploader').hidden = false;
  byId('owner').textContent = session.ownerId;

  const client = new UploadClient({ baseUrl: apiUrl, token: () => session.token });
  const filesApi = new FilesApi(apiUrl, session);
  const files = new FileList(filesApi, byId<HTMLUListElement>('files'), byId('files-empty'), byId<HTMLButtonElement>('files-more'), byId('feed-status'));
  const uploadsList = byId<HTMLUListElement>('uploads');
  const picker = byId<HTMLInputElement>('file-input');
  const folderPicker = byId<HTMLInputElement>('folder-input');
  const rows = new Set<UploadRow>();

  const ctx: RowContext = {
    client,
    ownerKey: session.ownerId,
    pickFiles: () => picker.click(),
    onRemoved: (row) => {
      rows.delete(row);
      row.element.remove();
      byId('uploads-empty').hidden = rows.size > 0;
    },
  };
  const add = (row: UploadRow) => {
    rows.add(row);
    uploadsList.prepend(row.element);
    byId('uploads-empty').hidden = true;
  };
  const accept = (picked: PickedFile[]) => {
    if (picked.length === 0) return;
    let continued = 0;
    for (const { file, filename } of picked) {
      // The same file as an upload interrupted earlier (name, size, modification time): continue it.
      const waiting = [...rows].find((row) => row.isWaitingForFile && row.matches(file, filename));
      if (waiting) {
        waiting.continueWith(file);
        continued++;
      } else add(UploadRow.start(ctx, file, filename));
    }
    announce(`${picked.length} file${picked.length === 1 ? '' : 's'} added${continued ? `, ${continued} continued` : ''}.`);
  };

  byId('choose-files').onclick = () => picker.click();
  byId('choose-folder').onclick = () => folderPicker.click();
  for (const input of [picker, folderPicker]) {
    input.onchange = () => {
      accept(fromInput(input));
      input.value = '';
    };
  }
  dropTarget(byId('drop-zone'), accept);
  byId('sign-out').onclick = async () => {
    for (const row of rows) row.element.remove();
    await files.stop();
    clearSession();
    location.reload();
  };

  // Uploads an earlier page left unfinished: still alive on the server? Then offer to continue.
  for (const pending of await pendingStore.all(session.ownerId)) {
    const state = await client.api.get(pending.uploadId).catch(() => null);
    if (!state || !isIn(ACCEPTING_PARTS, state.status as FileStatusName)) {
      await pendingStore.delete(pending.uploadId);
      continue;
    }
    add(UploadRow.restored(ctx, pending, state.bytesUploaded));
  }
  await files.start(config.syncUrl, () => session.token, `upload-platform-cursor:${session.ownerId}`);
}

void main().catch((error: unknown) => {
  const message = byId('fatal');
  message.hidden = false;
  message.textContent = `The uploader could not start: ${error instanceof Error ? error.message : String(error)}`;
});
