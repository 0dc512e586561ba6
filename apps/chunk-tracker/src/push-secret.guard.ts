import { createHash, timingSafeEqual } from 'node:crypto';
import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { DomainError } from '@app/contracts';

/** The query parameter a push carries its secret in; the request logger already redacts it. */
export const PUSH_SECRET_PARAM = 'access_token';

/**
 * The secrets a storage-event push may carry (STORAGE_EVENTS_PUSH_SECRETS). Every one is
 * accepted, so a secret rotates without a window in which RGW's retries are refused.
 */
export class PushSecrets {
  private readonly digests: Buffer[];

  constructor(secrets: readonly string[]) {
    if (!secrets.length) throw new Error('PushSecrets needs at least one secret');
    this.digests = secrets.map(digest);
  }

  /**
   * Compares digests, not the strings: equal lengths for timingSafeEqual whatever was sent, so
   * neither a secret's characters nor its length can be learnt from answer times. Every secret is
   * compared, matching or not.
   */
  accepts(candidate: unknown): boolean {
    if (typeof candidate !== 'string' || candidate === '') return false;
    const given = digest(candidate);
    let accepted = false;
    for (const known of this.digests) accepted = timingSafeEqual(given, known) || accepted;
    return accepted;
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * Guards the storage-event push route with its own secret, not the platform's credentials (RGW
 * cannot sign or send headers; it can only POST to the URL it was given). Missing or wrong: 401,
 * before anything is read or recorded. Then the secret is blanked out of the request's URL, so no
 * later log line (an error log of a 5xx names the URL) can carry it.
 */
@Injectable()
export class PushSecretGuard implements CanActivate {
  constructor(private readonly secrets: PushSecrets) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest<{ Querystring: Record<string, unknown> }>>();
    const given = request.query?.[PUSH_SECRET_PARAM];
    request.raw.url = redactPushSecret(request.raw.url ?? '');
    if (!this.secrets.accepts(given)) {
      throw new DomainError('unauthorized', `Push storage events to the URL with its secret: ?${PUSH_SECRET_PARAM}=<one of STORAGE_EVENTS_PUSH_SECRETS>.`);
    }
    return true;
  }
}

/** The URL with every `access_token` value replaced (all of them: a repeated parameter too). */
export function redactPushSecret(url: string): string {
  return url.replace(new RegExp(`([?&]${PUSH_SECRET_PARAM}=)[^&#]*`, 'g'), '$1[redacted]');
}
