import Ajv2020, { ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The e2e tier's contract check: every answer a test receives from upload-api or sync-notifier
 * is validated against the OpenAPI document generated from the services (scripts/contract.mjs):
 * its status must be documented for the operation, its body must match that answer's schema, and
 * an error must be a problem document with a code the operation lists. So the documents cannot
 * drift from what the services answer.
 */

export type ContractService = 'upload-api' | 'sync-notifier';

interface ResponseObject {
  content?: Record<string, { schema?: unknown }>;
}
interface OperationObject {
  responses: Record<string, ResponseObject>;
}
export interface OpenApiDocument {
  paths: Record<string, Record<string, OperationObject>>;
  components?: Record<string, unknown>;
}

export interface ContractViolation {
  request: string;
  status: number;
  problem: string;
}

/** scripts/contract.mjs writes the documents here beside their types (dist/ may be rebuilt during the tier). */
const DOCUMENT_DIR = path.join(__dirname, 'generated');

/** Checks answers against one service's document. */
export class ContractChecker {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
  private readonly validators = new Map<string, ValidateFunction>();
  private readonly routes: Array<{ template: string; pattern: RegExp }>;
  private readonly id: string;

  constructor(
    readonly service: string,
    readonly document: OpenApiDocument,
  ) {
    addFormats(this.ajv);
    // The whole document is one schema resource, so its `#/components/...` references resolve.
    this.id = `https://contract.test/${service}`;
    this.ajv.addSchema({ ...document, $id: this.id }, this.id);
    this.routes = Object.keys(document.paths).map((template) => ({
      template,
      pattern: new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`),
    }));
  }

  static load(service: ContractService): ContractChecker {
    const file = path.join(DOCUMENT_DIR, `${service}.openapi.json`);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      throw new Error(`${file} is missing: the e2e tier needs the contract documents (node scripts/contract.mjs after the build; npm run test:e2e does both)`);
    }
    return new ContractChecker(service, JSON.parse(text) as OpenApiDocument);
  }

  /** Why an answer breaks the contract, or null when it keeps it. */
  check(method: string, pathname: string, status: number, contentType: string | null, body: string): string | null {
    const route = this.routes.find((r) => r.pattern.test(pathname));
    const operation = route ? this.document.paths[route.template][method.toLowerCase()] : undefined;
    const mediaType = (contentType ?? '').split(';')[0].trim();
    if (!route || !operation) {
      // Outside the documented operations (an unknown route or method): an error must still be a problem document.
      if (status < 400) return null;
      return this.validate('#/components/schemas/Problem', mediaType === 'application/problem+json' ? body : null, 'a problem document');
    }
    const answer = operation.responses[String(status)] ?? operation.responses.default;
    const where = `${method.toUpperCase()} ${route.template}`;
    if (!answer) return `${status} is not a documented answer of ${where} (documented: ${Object.keys(operation.responses).join(', ')})`;
    if (!answer.content) return body.length === 0 || status === 302 ? null : `${where} ${status} is documented without a body but has one`;
    const content = answer.content[mediaType];
    if (!content) return `${where} ${status} answered ${mediaType || 'no content type'}; documented: ${Object.keys(answer.content).join(', ')}`;
    const pointer = `#/paths/${escape(route.template)}/${method.toLowerCase()}/responses/${status}/content/${escape(mediaType)}/schema`;
    return this.validate(pointer, body, `${where} ${status}`);
  }

  private validate(pointer: string, body: string | null, what: string): string | null {
    if (body === null) return `expected ${what}, got another content type`;
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch {
      return `${what}: the body is not JSON`;
    }
    let validate = this.validators.get(pointer);
    if (!validate) {
      validate = this.ajv.compile({ $ref: `${this.id}${pointer}` });
      this.validators.set(pointer, validate);
    }
    if (validate(value)) return null;
    const errors = (validate.errors ?? []).slice(0, 5).map((e) => `${e.instancePath || '(body)'} ${e.message ?? ''}`.trim());
    return `${what} does not match its schema: ${errors.join('; ')}`;
  }
}

const escape = (segment: string) => segment.replace(/~/g, '~0').replace(/\//g, '~1');

/**
 * Watches the global fetch of a test file: answers from a registered service origin are checked,
 * violations collected (test/e2e/setup.ts fails the test that met one).
 */
class ContractWatch {
  private readonly origins = new Map<string, ContractChecker>();
  private readonly checkers = new Map<ContractService, ContractChecker>();
  readonly violations: ContractViolation[] = [];
  private installed = false;

  register(service: ContractService, baseUrl: string): void {
    let checker = this.checkers.get(service);
    if (!checker) {
      checker = ContractChecker.load(service);
      this.checkers.set(service, checker);
    }
    this.origins.set(new URL(baseUrl).origin, checker);
    this.install();
  }

  private install(): void {
    if (this.installed) return;
    this.installed = true;
    const original = globalThis.fetch;
    globalThis.fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
      const response = await original(input, init);
      const url = new URL(input instanceof Request ? input.url : String(input));
      const checker = this.origins.get(url.origin);
      // A followed redirect (a download's 302 to storage) ends outside the API: its 302 is documented.
      // Health, metrics and the docs themselves are outside the versioned contract.
      if (!checker || response.redirected || !url.pathname.startsWith('/v1/')) return response;
      const method = init?.method ?? (input instanceof Request ? input.method : 'GET');
      // A long-poll or stream is read by the test; a clone is read here in full.
      const body = method === 'HEAD' ? '' : await response.clone().text();
      const problem = checker.check(method, url.pathname, response.status, response.headers.get('content-type'), body);
      if (problem) this.violations.push({ request: `${method} ${url.pathname}${url.search}`, status: response.status, problem });
      return response;
    };
  }

  /** The violations met since the last call, cleared. */
  take(): ContractViolation[] {
    return this.violations.splice(0);
  }
}

export const contractWatch = new ContractWatch();
