// Files from the drop zone and the pickers, folders included: a dropped folder is walked with
// the entries API; the folder picker gives each file its path (webkitRelativePath).

export interface PickedFile {
  file: File;
  /** The name to upload under: the path inside a picked or dropped folder, else the file's name. */
  filename: string;
}

export function fromInput(input: HTMLInputElement): PickedFile[] {
  return Array.from(input.files ?? [], (file) => ({ file, filename: file.webkitRelativePath || file.name }));
}

export async function fromDataTransfer(data: DataTransfer): Promise<PickedFile[]> {
  const entries = Array.from(data.items ?? [])
    .filter((item) => item.kind === 'file')
    .map((item) => item.webkitGetAsEntry?.() ?? null);
  // Without the entries API (or for synthetic transfers), the plain file list.
  if (entries.length === 0 || entries.some((e) => e === null)) return Array.from(data.files, (file) => ({ file, filename: file.name }));
  const picked: PickedFile[] = [];
  for (const entry of entries) await walk(entry!, picked);
  return picked;
}

async function walk(entry: FileSystemEntry, out: PickedFile[]): Promise<void> {
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
    out.push({ file, filename: entry.fullPath.replace(/^\//, '') || file.name });
    return;
  }
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  // readEntries answers in batches (100 in Chromium) until an empty one.
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) return;
    for (const child of batch) await walk(child, out);
  }
}

/** Makes an element a drop target: highlighted while something is dragged over it. */
export function dropTarget(element: HTMLElement, onDrop: (files: PickedFile[]) => void): void {
  let depth = 0;
  element.addEventListener('dragenter', (event) => {
    event.preventDefault();
    depth++;
    element.classList.add('dragging');
  });
  element.addEventListener('dragover', (event) => {
    event.preventDefault();
    if (event.dataTransfer) event.dataTransfer.dropEffect = 'copy';
  });
  element.addEventListener('dragleave', () => {
    if (--depth <= 0) {
      depth = 0;
      element.classList.remove('dragging');
    }
  });
  element.addEventListener('drop', (event) => {
    event.preventDefault();
    depth = 0;
    element.classList.remove('dragging');
    if (event.dataTransfer) void fromDataTransfer(event.dataTransfer).then(onDrop);
  });
}
