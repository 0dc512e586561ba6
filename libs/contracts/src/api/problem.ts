import { z } from 'zod';
import { ErrorCode, ErrorCodes } from '../errors';

export const ERROR_CODES = Object.keys(ErrorCodes) as [ErrorCode, ...ErrorCode[]];

/**
 * Every error answer: an RFC 9457 problem document (`application/problem+json`) with the
 * platform's stable `code`. Some codes carry more members (`missingParts` with `parts_missing`,
 * `quota` with `quota_exceeded`), so the object stays open.
 */
export const problemDocument = z
  .looseObject({
    type: z.string().url().describe('A URI naming the kind of problem (one per code)'),
    title: z.string().describe('Short, human summary of the kind of problem'),
    status: z.number().int().min(400).max(599),
    detail: z.string().describe('What went wrong with this request, for humans'),
    code: z.enum(ERROR_CODES).describe('Stable machine code: switch on this'),
    instance: z.string().optional(),
    errors: z
      .array(z.object({ field: z.string(), message: z.string() }))
      .optional()
      .describe('validation_failed: one entry per invalid field'),
  })
  .meta({
    id: 'Problem',
    examples: [
      {
        type: 'https://upload-platform.dev/problems/validation-failed',
        title: 'Request validation failed',
        status: 400,
        detail: 'The request is invalid: size must be at most 5497558138880',
        code: 'validation_failed',
        errors: [{ field: 'size', message: 'must be at most 5497558138880' }],
      },
    ],
  });

export type ProblemDocument = z.infer<typeof problemDocument>;
