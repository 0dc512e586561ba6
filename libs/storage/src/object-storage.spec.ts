import { CopyObjectCommand, CreateMultipartUploadCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ObjectStorage } from './object-storage';

const kmsKeyId = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';

/** An S3 client that records the commands it is given and answers as S3 would, enough for these calls. */
function recordingClient() {
  const sent: Array<PutObjectCommand | CopyObjectCommand | CreateMultipartUploadCommand> = [];
  const send = jest.fn((command: PutObjectCommand | CopyObjectCommand | CreateMultipartUploadCommand) => {
    sent.push(command);
    return Promise.resolve(command instanceof CreateMultipartUploadCommand ? { UploadId: 'upload-1' } : {});
  });
  return { s3: { send } as unknown as S3Client, sent };
}

async function writes(storage: ObjectStorage): Promise<void> {
  await storage.put('variants/t/f/thumb.0123456789abcdef', new Uint8Array([1, 2, 3]), 'image/webp');
  await storage.copy('uploads/t/f', 'quarantine/t/f');
  await storage.createMultipartUpload('uploads/t/g', { contentType: 'video/mp4', checksumSha256: false });
}

describe('ObjectStorage: the encryption its writes name (#15)', () => {
  it('with SSE-KMS, names the key on its own puts, its copies and CreateMultipartUpload (whose parts take it)', async () => {
    const { s3, sent } = recordingClient();
    await writes(new ObjectStorage(s3, 'uploads', { encryption: { algorithm: 'aws:kms', kmsKeyId } }));
    expect(sent.map((c) => [c.constructor.name, c.input.ServerSideEncryption, c.input.SSEKMSKeyId])).toEqual([
      ['PutObjectCommand', 'aws:kms', kmsKeyId],
      ['CopyObjectCommand', 'aws:kms', kmsKeyId],
      ['CreateMultipartUploadCommand', 'aws:kms', kmsKeyId],
    ]);
  });

  it('without, names none: the bucket’s default encryption applies', async () => {
    const { s3, sent } = recordingClient();
    await writes(new ObjectStorage(s3, 'uploads'));
    expect(sent).toHaveLength(3);
    for (const command of sent) {
      expect(command.input).not.toHaveProperty('ServerSideEncryption');
      expect(command.input).not.toHaveProperty('SSEKMSKeyId');
    }
  });
});
