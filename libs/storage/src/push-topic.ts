import { PutBucketNotificationConfigurationCommand, S3Client } from '@aws-sdk/client-s3';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';

export interface PushTopicOptions {
  bucket: string;
  objectPrefix: string;
  /** The topic's name on the storage (one per bucket). */
  topicName: string;
  /** Where the storage POSTs the event records: chunk-tracker's `/v1/storage-events?access_token=...` (ADR 0018). */
  pushEndpoint: string;
}

/**
 * Makes S3-compatible storage without SQS (Ceph RGW) announce the bucket's objects under the prefix
 * by POSTing S3 event records to `pushEndpoint`: a persistent topic (the storage queues and retries
 * what the endpoint did not take), created with RGW's SNS-style CreateTopic (a SigV4-signed form
 * POST, service `sns`, to the S3 endpoint itself), and the bucket's TopicConfigurations. Creating
 * a topic that exists updates it, so running this again converges. Returns the topic's ARN.
 */
export async function subscribePushTopic(s3: S3Client, o: PushTopicOptions): Promise<string> {
  const endpoint = await s3.config.endpoint?.();
  if (!endpoint) throw new Error('the S3 client has no endpoint: push topics exist on S3-compatible storage only');
  const origin = `${endpoint.protocol}//${endpoint.hostname}${endpoint.port ? `:${endpoint.port}` : ''}`;
  const body = new URLSearchParams({
    Action: 'CreateTopic',
    Name: o.topicName,
    'Attributes.entry.1.key': 'push-endpoint',
    'Attributes.entry.1.value': o.pushEndpoint,
    'Attributes.entry.2.key': 'persistent',
    'Attributes.entry.2.value': 'true',
  }).toString();
  const signer = new SignatureV4({ service: 'sns', region: await s3.config.region(), credentials: s3.config.credentials, sha256: Hash.bind(null, 'sha256') });
  const signed = await signer.sign(
    new HttpRequest({
      method: 'POST',
      protocol: endpoint.protocol,
      hostname: endpoint.hostname,
      port: endpoint.port,
      path: '/',
      headers: { host: new URL(origin).host, 'content-type': 'application/x-www-form-urlencoded' },
      body,
    }),
  );
  const res = await fetch(`${origin}/`, { method: 'POST', headers: signed.headers, body });
  const answer = await res.text();
  const topicArn = /<TopicArn>([^<]+)<\/TopicArn>/.exec(answer)?.[1];
  if (!res.ok || !topicArn) throw new Error(`CreateTopic answered ${res.status}: ${answer.slice(0, 500)}`);
  await s3.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: o.bucket,
      NotificationConfiguration: {
        TopicConfigurations: [
          {
            Id: 'upload-events',
            TopicArn: topicArn,
            Events: ['s3:ObjectCreated:*', 's3:ObjectRemoved:*'],
            Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: o.objectPrefix }] } },
          },
        ],
      },
    }),
  );
  return topicArn;
}
