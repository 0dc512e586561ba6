// Unfinished uploads, kept in IndexedDB so a reload or a crash of the browser can continue them:
// the server holds the parts; the page needs only the upload's id and which file it was.

export interface PendingUpload {
  uploadId: string;
  name: string;
  size: number;
  lastModified: number;
  /** The owner it belongs to: one browser may sign in as several people in turn. */
  ownerKey: string;
  startedAt: number;
}

const DB = 'upload-platform-web';
const STORE = 'pending-uploads';

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: 'uploadId' });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error('IndexedDB did not open'));
  });
}

async function run<T>(mode: IDBTransactionMode, op: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await open();
  try {
    return await new Promise<T>((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const request = op(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(request.result);
      tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
      tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
    });
  } finally {
    db.close();
  }
}

export const pendingStore = {
  put: (entry: PendingUpload) => run('readwrite', (s) => s.put(entry)).then(() => undefined),
  delete: (uploadId: string) => run('readwrite', (s) => s.delete(uploadId)).then(() => undefined),
  all: async (ownerKey: string) => ((await run('readonly', (s) => s.getAll())) as PendingUpload[]).filter((p) => p.ownerKey === ownerKey),
};
