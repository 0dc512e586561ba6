import { Body, Controller, Get, Module, Param, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { ApiBearerAuth, ApiOperation, ApiResponse } from '@nestjs/swagger';
import { createZodDto, ZodResponse } from 'nestjs-zod';
import { z } from 'zod';
import { openApiDocument, Problems, schemaRef } from './openapi';

const page = z.object({ items: z.array(z.string()), nextCursor: z.string().nullable() });
const shapeA = z.object({ kind: z.literal('a'), n: z.number().int() });
const shapeB = z.object({ kind: z.literal('b') });
const either = z.discriminatedUnion('kind', [shapeA, shapeB]).meta({ id: 'SpecEither' });
class PageDto extends createZodDto(page) {}
class BodyDto extends createZodDto(z.object({ name: z.string() }).strict()) {}

@ApiBearerAuth()
@Controller('v1/things')
class ThingsController {
  @Get()
  @ApiOperation({ summary: 'List things' })
  @ZodResponse({ status: 200, type: PageDto, description: 'A page' })
  list() {
    return { items: [], nextCursor: null };
  }

  @Post(':id')
  @ApiOperation({ summary: 'Make a thing' })
  @ApiResponse({ status: 201, schema: schemaRef(either), description: 'One of two shapes' })
  @Problems('quota_exceeded', 'invalid_state')
  make(@Param('id') _id: string, @Body() _body: BodyDto) {
    return { kind: 'b' };
  }
}

@Module({ controllers: [ThingsController] })
class ThingsModule {}

describe('openApiDocument', () => {
  let document: ReturnType<typeof openApiDocument>;
  beforeAll(async () => {
    const app = await NestFactory.create(ThingsModule, new FastifyAdapter(), { preview: true, logger: false });
    document = openApiDocument(app, { title: 'Things', description: 'Spec', tags: [{ name: 'things', description: 'Things' }] });
    await app.close();
  });
  const schemas = () => document.components!.schemas as Record<string, any>;

  it('is OpenAPI 3.1 with a server, a license, tags and operation ids named after the controller', () => {
    expect(document.openapi).toBe('3.1.0');
    expect(document.servers?.[0].url).toBe('{origin}');
    expect(document.info.license?.name).toBe('Apache-2.0');
    expect(document.tags).toEqual([{ name: 'things', description: 'Things' }]);
    expect(document.paths['/v1/things'].get!.operationId).toBe('thingsList');
  });

  it('types a nullable string as string or null, never as an array (nestjs-zod patch)', () => {
    expect(schemas().Page.properties.nextCursor).toEqual({ anyOf: [{ type: 'string' }, { type: 'null' }] });
  });

  it("lists every operation's error codes per status: the common ones by trait, and those it declares", () => {
    const make = document.paths['/v1/things/{id}'].post!;
    const codesAt = (status: string) => (make.responses[status] as any).content['application/problem+json'].schema.allOf[1].properties.code.enum;
    expect(codesAt('400')).toEqual(['validation_failed']);
    expect(codesAt('401')).toEqual(['unauthorized']);
    expect(codesAt('403')).toEqual(['forbidden', 'quota_exceeded']);
    expect(codesAt('404')).toEqual(['not_found']);
    expect(codesAt('409')).toEqual(['invalid_state']);
    expect(codesAt('413')).toEqual(['payload_too_large']);
    expect((make.responses['403'] as any).content['application/problem+json'].schema.allOf[0]).toEqual({ $ref: '#/components/schemas/Problem' });
    // A route without a body or path id declares neither 413 nor 404.
    expect(Object.keys(document.paths['/v1/things'].get!.responses).sort()).toEqual(['200', '401', '403', '429', '500', '503']);
    expect(JSON.stringify(document)).not.toContain('x-problems');
  });

  it('carries components from zod for referenced schemas, under names clients see, and nothing unreferenced', () => {
    expect(Object.keys(schemas()).sort()).toEqual(['Body', 'Page', 'Problem', 'SpecEither']);
    expect(schemas().SpecEither.oneOf).toHaveLength(2);
    expect(schemas().Problem.properties.code.enum).toContain('quota_exceeded');
  });
});
