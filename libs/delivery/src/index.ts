export * from './delivery-links';
export * from './delivery.module';
export { NginxLinks, NGINX_ORIGIN_PASS_PATH, secureLinkSignature } from './nginx-links';
export { CloudFrontLinks } from './cloudfront-links';
export { PresignedLinks } from './presigned-links';
export * from './nginx-conf';
