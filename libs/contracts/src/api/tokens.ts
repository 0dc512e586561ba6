import { z } from 'zod';
import { ownerId } from './common';

export const MAX_TOKEN_TTL_SECONDS = 7 * 24 * 3600;

export const createTokenBody = z
  .object({
    ownerId: ownerId.optional().describe('The owner the token acts for; or send X-Owner-Id'),
    ttlSeconds: z.number().int().min(60).max(MAX_TOKEN_TTL_SECONDS).optional().describe('Lifetime (default 3600)'),
  })
  .strict();

export type CreateTokenBody = z.infer<typeof createTokenBody>;

export const tokenCreated = z.object({
  token: z.string(),
  ownerId: z.string(),
  expiresAt: z.string().datetime(),
});
