import type { ExecutionContext } from '@nestjs/common';
import { DomainError } from '@app/contracts';
import { PushSecretGuard, PushSecrets, redactPushSecret } from './push-secret.guard';

const CURRENT = 'current-secret-0123456789abcdefghijklmnop';
const PREVIOUS = 'previous-secret-0123456789abcdefghijklmno';

/** The request a guard sees: Fastify's parsed query and the raw URL the loggers print. */
function contextOf(url: string) {
  const query = Object.fromEntries(new URL(url, 'http://tracker').searchParams);
  const request = { query, raw: { url } };
  const context = { switchToHttp: () => ({ getRequest: () => request }) } as unknown as ExecutionContext;
  return { request, context };
}

describe('PushSecrets', () => {
  const secrets = new PushSecrets([CURRENT, PREVIOUS]);

  it('accepts every configured secret, so a rotation has no gap', () => {
    expect(secrets.accepts(CURRENT)).toBe(true);
    expect(secrets.accepts(PREVIOUS)).toBe(true);
  });

  it.each([
    ['a wrong secret', 'wrong-secret-0123456789abcdefghijklmnopqr'],
    ['a prefix of a secret', CURRENT.slice(0, -1)],
    ['a secret with more after it', `${CURRENT}x`],
    ['an empty string', ''],
    ['no secret', undefined],
    ['a repeated parameter', [CURRENT, CURRENT]],
  ])('refuses %s', (_, candidate) => {
    expect(secrets.accepts(candidate)).toBe(false);
  });

  it('refuses to be built without a secret', () => {
    expect(() => new PushSecrets([])).toThrow();
  });
});

describe('PushSecretGuard', () => {
  const guard = new PushSecretGuard(new PushSecrets([CURRENT]));

  it('lets a push with the secret through and blanks the secret out of the URL every later log line sees', () => {
    const { request, context } = contextOf(`/v1/storage-events?access_token=${CURRENT}`);
    expect(guard.canActivate(context)).toBe(true);
    expect(request.raw.url).toBe('/v1/storage-events?access_token=[redacted]');
  });

  it.each([
    ['without a secret', '/v1/storage-events'],
    ['with a wrong secret', '/v1/storage-events?access_token=wrong'],
  ])('answers 401 to a push %s, and the URL keeps no secret either', (_, url) => {
    const { request, context } = contextOf(url);
    let thrown: unknown;
    try {
      guard.canActivate(context);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(DomainError);
    expect((thrown as DomainError).status).toBe(401);
    expect(request.raw.url).not.toContain('wrong');
  });
});

describe('redactPushSecret', () => {
  it('replaces every access_token value and leaves other parameters alone', () => {
    expect(redactPushSecret('/v1/storage-events?a=1&access_token=s1&access_token=s2#x')).toBe(
      '/v1/storage-events?a=1&access_token=[redacted]&access_token=[redacted]#x',
    );
  });
});
