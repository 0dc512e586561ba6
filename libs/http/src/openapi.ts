import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { cleanupOpenApiDoc } from 'nestjs-zod';

/** OpenAPI JSON at /docs/openapi.json and the UI at /docs (api-v1.md, Conventions), from the zod schemas. */
export function setupOpenApi(app: NestFastifyApplication, title: string, description: string): void {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle(title)
      .setDescription(description)
      .setVersion('1')
      .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'Admin token, tenant API key or user token' })
      .build(),
  );
  SwaggerModule.setup('docs', app, cleanupOpenApiDoc(document), { jsonDocumentUrl: 'docs/openapi.json', yamlDocumentUrl: 'docs/openapi.yaml' });
}
