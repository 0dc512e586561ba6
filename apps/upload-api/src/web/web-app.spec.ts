import Fastify, { FastifyInstance } from 'fastify';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { contentSecurityPolicy, serveWebApp } from './web-app';

describe('the web uploader at /app/', () => {
  let root: string;
  let fastify: FastifyInstance;

  beforeAll(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'web-app-'));
    writeFileSync(path.join(root, 'index.html'), '<!doctype html><title>t</title>');
    writeFileSync(path.join(root, 'app.js'), 'export {};');
    writeFileSync(path.join(root, 'styles.css'), 'body{}');
    fastify = Fastify();
    await serveWebApp(fastify, { root, syncUrl: 'https://sync.example.com/', s3Endpoint: 'http://127.0.0.1:5055', s3Region: 'us-east-1' });
    await fastify.ready();
  });
  afterAll(async () => {
    await fastify.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('serves the page with its content type, a CSP and revalidation', async () => {
    const res = await fastify.inject({ method: 'GET', url: '/app/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
  });

  it.each([
    ['/app/app.js', /^(text|application)\/javascript/],
    ['/app/styles.css', /^text\/css/],
  ])('serves %s as %s', async (url, type) => {
    const res = await fastify.inject({ method: 'GET', url });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(type);
  });

  it('redirects /app to /app/ and answers 404 for a file it does not have', async () => {
    expect((await fastify.inject({ method: 'GET', url: '/app' })).headers.location).toBe('/app/');
    expect((await fastify.inject({ method: 'GET', url: '/app/missing.js' })).statusCode).toBe(404);
  });

  it('tells the page where sync-notifier is, and nothing secret', async () => {
    const res = await fastify.inject({ method: 'GET', url: '/app/config.json' });
    expect(res.json()).toEqual({ apiUrl: '', syncUrl: 'https://sync.example.com' });
    expect(res.headers['cache-control']).toBe('no-cache');
  });

  it('lets the page connect only to itself, storage and sync-notifier (HTTP and WebSocket)', () => {
    const csp = contentSecurityPolicy({ syncUrl: 'https://sync.example.com', s3Endpoint: 'http://127.0.0.1:5055', s3Region: 'us-east-1' });
    expect(csp).toContain("connect-src 'self' http://127.0.0.1:5055 https://sync.example.com wss://sync.example.com");
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("img-src 'self' blob: http://127.0.0.1:5055");
  });

  it('takes images from the CDN when one serves them, and still connects to storage for uploads', () => {
    const csp = contentSecurityPolicy({
      syncUrl: 'https://sync.example.com',
      s3Endpoint: 'http://127.0.0.1:5055',
      s3Region: 'us-east-1',
      cdnBaseUrl: 'https://cdn.example.com/',
    });
    expect(csp).toContain("img-src 'self' blob: https://cdn.example.com;");
    expect(csp).toContain("connect-src 'self' http://127.0.0.1:5055 https://cdn.example.com https://sync.example.com");
  });

  it('names the region’s AWS endpoints when storage is AWS S3 itself', () => {
    const csp = contentSecurityPolicy({ syncUrl: 'http://127.0.0.1:3001', s3Region: 'eu-west-1' });
    expect(csp).toContain('https://*.s3.eu-west-1.amazonaws.com https://s3.eu-west-1.amazonaws.com http://127.0.0.1:3001 ws://127.0.0.1:3001');
  });
});
