import { Global, Module } from '@nestjs/common';
import { APP_CONFIG, ConfigError } from '@app/config';
import type { CdnEnv } from '@app/config';
import { FastPresigner } from '@app/storage';
import { CloudFrontLinks } from './cloudfront-links';
import { DeliveryLinks, LinkLifetimes } from './delivery-links';
import { NginxLinks } from './nginx-links';
import { MAX_PRESIGN_SECONDS, PresignedLinks } from './presigned-links';

/**
 * The links of the configured CDN. Settings that belong together are checked here, at boot, with
 * the variable named: a CDN without its origin or keys would hand out links that can never work.
 */
export function createDeliveryLinks(config: CdnEnv, presigner: FastPresigner, now?: () => Date): DeliveryLinks {
  const lifetimes: LinkLifetimes = {
    windowSeconds: config.CDN_LINK_WINDOW_SECONDS,
    variantSeconds: config.CDN_VARIANT_LINK_SECONDS,
    originalSeconds: config.CDN_ORIGINAL_LINK_SECONDS,
  };
  const missing = (names: Array<keyof CdnEnv>) => names.filter((name) => !config[name]).map((name) => `${name}: required with CDN=${config.CDN}`);
  switch (config.CDN) {
    case 'none': {
      if (lifetimes.variantSeconds + lifetimes.windowSeconds > MAX_PRESIGN_SECONDS)
        throw new ConfigError([`CDN_VARIANT_LINK_SECONDS: with CDN_LINK_WINDOW_SECONDS at most ${MAX_PRESIGN_SECONDS} (a presigned URL lives at most 7 days)`]);
      return new PresignedLinks(lifetimes, presigner, now);
    }
    case 'nginx': {
      const problems = missing(['CDN_BASE_URL', 'CDN_NGINX_SECRET']);
      if (problems.length) throw new ConfigError(problems);
      return new NginxLinks({ ...lifetimes, baseUrl: config.CDN_BASE_URL!, secret: config.CDN_NGINX_SECRET! }, presigner, now);
    }
    case 'cloudfront': {
      const problems = missing(['CDN_BASE_URL', 'CDN_CLOUDFRONT_KEY_PAIR_ID', 'CDN_CLOUDFRONT_PRIVATE_KEY']);
      if (problems.length) throw new ConfigError(problems);
      return new CloudFrontLinks(
        {
          ...lifetimes,
          baseUrl: config.CDN_BASE_URL!,
          keyPairId: config.CDN_CLOUDFRONT_KEY_PAIR_ID!,
          // Secrets often arrive through env files that cannot hold newlines.
          privateKey: config.CDN_CLOUDFRONT_PRIVATE_KEY!.replace(/\\n/g, '\n'),
        },
        now,
      );
    }
  }
}

/** DeliveryLinks for the configured CDN (StorageModule provides the presigner). */
@Global()
@Module({
  providers: [{ provide: DeliveryLinks, inject: [APP_CONFIG, FastPresigner], useFactory: (c: CdnEnv, p: FastPresigner) => createDeliveryLinks(c, p) }],
  exports: [DeliveryLinks],
})
export class DeliveryModule {}
