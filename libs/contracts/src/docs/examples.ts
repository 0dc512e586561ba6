import type { ChangeMessage } from '../change-events';
import type { SyncClientMessage, SyncServerMessage, WebhookHeaders, WebhookPayload } from '../api/sync-protocol';

// Examples of the generated documents. The unit tier checks each against its own schema, and the
// webhook example's signature against its secret, so an example cannot drift from the contract.

const FILE_ID = '0f6a1c2e-5b7d-4e3a-9c1b-2d4e6f8a0b1c';

export const exampleChanges = {
  uploadCreated: {
    cursor: '41',
    type: 'upload.created',
    fileId: FILE_ID,
    at: '2026-12-07T06:00:00.000Z',
    data: { filename: 'holiday.jpg', size: 4_194_304, contentType: 'image/jpeg', mode: 'single' },
  },
  fileReady: {
    cursor: '42',
    type: 'file.ready',
    fileId: FILE_ID,
    at: '2026-12-07T06:00:03.250Z',
    data: { width: 4000, height: 3000, variants: ['thumb', 'preview'] },
  },
} satisfies Record<string, ChangeMessage>;

export const exampleChangeFrame: SyncServerMessage = { type: 'change', change: exampleChanges.fileReady };

export const exampleAckFrame: SyncClientMessage = { type: 'ack', cursor: '42' };

/** A delivery of `exampleChanges.fileReady` to an endpoint of owner `alice`. */
export const exampleWebhookPayload: WebhookPayload = {
  type: 'file.ready',
  timestamp: exampleChanges.fileReady.at,
  data: { ...exampleChanges.fileReady.data, fileId: FILE_ID, ownerId: 'alice', cursor: exampleChanges.fileReady.cursor },
};

/** The secret the example headers are signed with (Standard Webhooks' documentation secret). */
export const EXAMPLE_WEBHOOK_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

/** The headers of an attempt of that delivery, body `JSON.stringify(exampleWebhookPayload)`. */
export const exampleWebhookHeaders: WebhookHeaders = {
  'content-type': 'application/json',
  'user-agent': 'upload-platform-webhooks/1',
  'webhook-id': '7c2b9e4d-1a3f-4b6c-8d5e-9f0a1b2c3d4e',
  'webhook-timestamp': '1796623204',
  'webhook-signature': 'v1,j4+POZ5nmGeiT8YH06F3+K554EmxELmpUlGAx8hmKtU=',
};
