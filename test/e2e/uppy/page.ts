/**
 * The page test/e2e/uppy.e2e.ts drives: Uppy's core and its S3 plugin with exactly the options the
 * test passes (an endpoint and a header, or a companionEndpoint) and no callbacks: the point is an
 * upload with no glue (issue #14). Bundled once per Uppy major: esbuild points `@uppy/core` and
 * `@uppy/aws-s3` at that major's install (test/e2e/uppy/bundle.ts).
 */
import Uppy from '@uppy/core';
import AwsS3 from '@uppy/aws-s3';

/** What the page tells the test, in order. */
export type UppyEvent =
  { type: 'upload-success'; name: string; uploadURL: string | undefined; key: string | undefined } | { type: 'upload-error'; name: string; message: string };

export interface UppyPage {
  add(file: File): string;
  /** Starts every added file; the result lands in `done` (Uppy's own `upload()` answer). */
  upload(): void;
  pauseResume(fileId: string): void;
  cancel(fileId: string): void;
  bytesUploaded(fileId: string): number;
  events: UppyEvent[];
  done: { successful: string[]; failed: string[] } | null;
}

declare global {
  interface Window {
    startUppy(options: Record<string, unknown>): UppyPage;
  }
}

window.startUppy = (options) => {
  const uppy = new Uppy({ autoProceed: false });
  // The test hands the plugin its options as plain data: whichever union member of AwsS3's
  // options this major has, the page adds nothing to them.
  uppy.use(AwsS3, options as never);
  const page: UppyPage = {
    events: [],
    done: null,
    add: (file) => uppy.addFile({ name: file.name, type: file.type, data: file, source: 'e2e' }),
    upload() {
      void uppy.upload().then((result) => {
        page.done = { successful: (result?.successful ?? []).map((f) => f.name ?? ''), failed: (result?.failed ?? []).map((f) => f.name ?? '') };
      });
    },
    pauseResume: (fileId) => void uppy.pauseResume(fileId),
    cancel: (fileId) => uppy.removeFile(fileId),
    bytesUploaded: (fileId) => Number(uppy.getFile(fileId)?.progress.bytesUploaded ?? 0),
  };
  uppy.on('upload-success', (file, response) => {
    const body = (response.body ?? {}) as { key?: string; location?: string };
    page.events.push({ type: 'upload-success', name: file?.name ?? '', uploadURL: response.uploadURL ?? body.location, key: body.key });
  });
  uppy.on('upload-error', (file, error) => page.events.push({ type: 'upload-error', name: file?.name ?? '', message: error.message }));
  return page;
};
