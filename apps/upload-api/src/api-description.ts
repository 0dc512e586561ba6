import type { ApiDescription } from '@app/http';

/** upload-api's OpenAPI document: its title, its story and the groups of its operations. */
export const uploadApiDescription: ApiDescription = {
  title: 'Upload platform API',
  description: [
    'Metadata in, presigned URLs out: clients send file bytes straight to object storage, never through this API.',
    '',
    'An upload is created with `POST /v1/uploads`; small files get one presigned PUT, large ones a part plan and part URLs',
    '(`POST /v1/uploads/{id}/parts`), then `POST /v1/uploads/{id}/complete`. A file is `uploaded` only once storage itself',
    'reported the object; it is then verified and processed, and its changes stream from sync-notifier.',
    '',
    'Errors are RFC 9457 problem documents (`application/problem+json`) with a stable `code`: each operation lists the codes it can answer.',
  ].join('\n'),
  tags: [
    { name: 'uploads', description: 'Create uploads, sign part URLs, resume, complete and abort' },
    { name: 'files', description: 'Stored files: list, read, download and delete' },
    { name: 'tokens', description: 'User tokens a tenant backend hands to its apps' },
    { name: 'usage', description: 'Bytes held against the quota' },
    { name: 'admin', description: 'Platform operators: tenants, API keys, jobs and reprocessing (admin token)' },
  ],
};
