import { renderNginxConf, storageOrigin } from './nginx-conf';

const values = {
  CDN_LISTEN: '127.0.0.1:8089',
  CDN_STATE_DIR: '/var/cache/cdn',
  CDN_NGINX_SECRET: 'a-secure-link-secret-of-32-characters',
  S3_ORIGIN: 'http://127.0.0.1:5055',
  S3_ORIGIN_HOST: '127.0.0.1:5055',
  S3_BUCKET_PATH: '/uploads',
  S3_VARIANT_PREFIX: 'variants/',
};

describe('renderNginxConf', () => {
  it('fills the template’s placeholders and leaves nginx’s own variables', () => {
    const conf = renderNginxConf(values);
    expect(conf).toContain('listen 127.0.0.1:8089;');
    expect(conf).toContain('location ^~ /variants/ {');
    expect(conf).toContain('secure_link_md5 "$secure_link_expires$uri a-secure-link-secret-of-32-characters";');
    expect(conf).toContain('rewrite ^(.*)$ /uploads$1? break;');
    expect(conf).toContain('add_header X-Cache $upstream_cache_status always;');
    expect(conf).not.toMatch(/^[^#]*\$\{[A-Z_]+\}/m);
  });

  it('refuses a value that would change the configuration’s meaning, and a missing one', () => {
    expect(() => renderNginxConf({ ...values, CDN_NGINX_SECRET: 'secret; return 200' })).toThrow(/CDN_NGINX_SECRET cannot go into/);
    expect(() => renderNginxConf(values, 'listen ${CDN_PORT};')).toThrow(/needs CDN_PORT/);
  });
});

describe('storageOrigin', () => {
  it('reads a path-style endpoint through the bucket’s path, and AWS through the bucket’s own host', () => {
    expect(storageOrigin({ S3_ENDPOINT: 'http://127.0.0.1:5055', S3_BUCKET: 'uploads', S3_REGION: 'us-east-1', S3_FORCE_PATH_STYLE: true })).toEqual({
      S3_ORIGIN: 'http://127.0.0.1:5055',
      S3_ORIGIN_HOST: '127.0.0.1:5055',
      S3_BUCKET_PATH: '/uploads',
    });
    expect(storageOrigin({ S3_BUCKET: 'uploads', S3_REGION: 'eu-west-1', S3_FORCE_PATH_STYLE: false })).toEqual({
      S3_ORIGIN: 'https://uploads.s3.eu-west-1.amazonaws.com',
      S3_ORIGIN_HOST: 'uploads.s3.eu-west-1.amazonaws.com',
      S3_BUCKET_PATH: '',
    });
  });
});
