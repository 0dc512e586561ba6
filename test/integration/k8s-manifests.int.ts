import { K8sObject, podSecurityViolations, projectViolations, render, schemaViolations } from './k8s-rules';

/**
 * The Kubernetes manifests (k8s/, docs/kubernetes.md, docs/adr/0027-kubernetes-deployment.md), as
 * `kubectl apply -k` would send them: every overlay renders, every object passes the Kubernetes,
 * KEDA and Prometheus Operator schemas, every pod Pod Security "restricted", and the project's
 * rules hold. The last block breaks one field at a time to show that each check notices. The alerts
 * and the dashboard themselves are tested in monitoring.int.ts.
 */
const OVERLAYS = ['k8s/overlays/dev', 'k8s/overlays/prod'];

const copy = (objects: K8sObject[]): K8sObject[] => structuredClone(objects);
const find = (objects: K8sObject[], kind: string, name: string): K8sObject => {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`${kind}/${name} is not rendered`);
  return found;
};

describe('the base', () => {
  it('holds no Secret, so applying an overlay never overwrites the real one', () => {
    const base = render('k8s/base');
    expect(base.filter((o) => o.kind === 'Secret')).toEqual([]);
    expect(projectViolations(base, { base: true }).filter((v) => v.includes('Secret'))).toEqual([]);
  });
});

describe.each(OVERLAYS)('%s', (dir) => {
  let objects: K8sObject[];
  beforeAll(() => {
    objects = render(dir);
  });

  it('renders the whole platform into one namespace', () => {
    const kinds = objects.map((o) => `${o.kind}/${o.metadata.name}`);
    for (const name of ['upload-api', 'sync-notifier', 'chunk-tracker', 'media-processor-image', 'media-processor-video', 'clamav'])
      expect(kinds).toContain(`Deployment/${name}`);
    expect(kinds).toContain('Ingress/upload-platform');
    expect(objects.filter((o) => o.kind !== 'Namespace').every((o) => o.metadata.namespace === 'uploads')).toBe(true);
  });

  it('is monitored: a ServiceMonitor, the alerts, and the dashboard for Grafana', () => {
    const kinds = objects.map((o) => `${o.kind}/${o.metadata.name}`);
    expect(kinds).toEqual(expect.arrayContaining(['ServiceMonitor/upload-platform', 'PrometheusRule/upload-platform']));
    expect(find(objects, 'ConfigMap', 'upload-platform-dashboard').metadata.labels).toMatchObject({ grafana_dashboard: '1' });
  });

  it('passes the Kubernetes, KEDA and Prometheus Operator schemas', () => {
    expect(schemaViolations(objects)).toEqual([]);
  });

  it('passes Pod Security "restricted" in every container', () => {
    expect(podSecurityViolations(objects)).toEqual([]);
    expect(find(objects, 'Namespace', 'uploads').metadata.labels).toMatchObject({ 'pod-security.kubernetes.io/enforce': 'restricted' });
  });

  it("keeps the project's rules", () => {
    expect(projectViolations(objects)).toEqual([]);
  });

  it('routes the change feed, the device socket and webhooks to sync-notifier, the rest to upload-api', () => {
    const ingress = find(objects, 'Ingress', 'upload-platform');
    expect(ingress.spec.rules).toHaveLength(1);
    const routes = Object.fromEntries(
      (ingress.spec.rules[0].http.paths as { path: string; backend: { service: { name: string } } }[]).map((p) => [p.path, p.backend.service.name]),
    );
    expect(routes).toEqual({ '/v1/changes': 'sync-notifier', '/v1/sync': 'sync-notifier', '/v1/webhooks': 'sync-notifier', '/': 'upload-api' });
    expect(Number(ingress.metadata.annotations['nginx.ingress.kubernetes.io/proxy-read-timeout'])).toBeGreaterThanOrEqual(3600);
  });
});

describe('the checks catch a broken manifest', () => {
  let objects: K8sObject[];
  beforeAll(() => {
    objects = render('k8s/overlays/prod');
  });

  it('a field of the wrong type (replicas: "one") fails the schema', () => {
    const broken = copy(objects);
    find(broken, 'Deployment', 'clamav').spec.replicas = 'one';
    expect(schemaViolations(broken)).toEqual([expect.stringContaining('Deployment/clamav: data/spec/replicas must be integer')]);
  });

  it('a KEDA object with a wrong field fails the KEDA schema', () => {
    const broken = copy(objects);
    find(broken, 'ScaledObject', 'media-processor-video').spec.minReplicaCount = 'one';
    expect(schemaViolations(broken)).toEqual([expect.stringContaining('ScaledObject/media-processor-video')]);
  });

  it('Prometheus Operator objects with a wrong field fail their schema', () => {
    const broken = copy(objects);
    find(broken, 'ServiceMonitor', 'upload-platform').spec.endpoints[0].port = 3000;
    find(broken, 'PrometheusRule', 'upload-platform').spec.groups[0].rules[0].for = '10 minutes';
    expect(schemaViolations(broken)).toEqual([
      expect.stringContaining('PrometheusRule/upload-platform: data/spec/groups/0/rules/0/for must match pattern'),
      expect.stringContaining('ServiceMonitor/upload-platform: data/spec/endpoints/0/port must be string'),
    ]);
  });

  it('an object of a kind nobody validates is refused, not skipped', () => {
    const broken = copy(objects);
    broken.push({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } });
    expect(schemaViolations(broken)).toEqual(['Widget/w: no schema for example.com/v1 Widget']);
  });

  it('a container without seccomp or with privilege escalation fails Pod Security', () => {
    const broken = copy(objects);
    const pod = find(broken, 'Deployment', 'upload-api').spec.template.spec;
    delete pod.securityContext.seccompProfile;
    pod.containers[0].securityContext.allowPrivilegeEscalation = true;
    expect(podSecurityViolations(broken)).toEqual([
      'Deployment/upload-api container upload-api: allowPrivilegeEscalation is not false',
      'Deployment/upload-api container upload-api: seccompProfile is unset',
    ]);
  });

  it('an unbounded /tmp fails', () => {
    const broken = copy(objects);
    find(broken, 'Deployment', 'chunk-tracker').spec.template.spec.volumes[0].emptyDir = {};
    expect(podSecurityViolations(broken)).toEqual(['Deployment/chunk-tracker: emptyDir tmp without sizeLimit']);
  });

  it('replicas next to an autoscaler, a container without resources or probes, a blocking PDB, :latest fail the project rules', () => {
    const broken = copy(objects);
    find(broken, 'Deployment', 'upload-api').spec.replicas = 2;
    const container = find(broken, 'Deployment', 'sync-notifier').spec.template.spec.containers[0];
    delete container.resources;
    delete container.startupProbe;
    find(broken, 'PodDisruptionBudget', 'chunk-tracker').spec = { minAvailable: 1, selector: {} };
    find(broken, 'Deployment', 'clamav').spec.template.spec.containers[0].image = 'clamav/clamav:latest';
    expect(projectViolations(broken)).toEqual(
      expect.arrayContaining([
        'Deployment/upload-api: sets replicas although HorizontalPodAutoscaler/upload-api owns them',
        'Deployment/sync-notifier container sync-notifier: needs requests.cpu, requests.memory and limits.memory',
        'Deployment/sync-notifier container sync-notifier: no startupProbe',
        'PodDisruptionBudget/chunk-tracker: minAvailable blocks drains of a single replica; use maxUnavailable',
        'Deployment/clamav container clamav: image clamav/clamav:latest has no immutable tag',
      ]),
    );
  });

  it('a Secret in the base fails the project rules', () => {
    const broken = [...objects, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'placeholder' } }];
    expect(projectViolations(broken, { base: true })).toEqual(['Secret/placeholder: a Secret in the base would overwrite the real one on apply']);
  });

  it('an overlay without the Secret, or a migration Job not named per release, fails the project rules', () => {
    const broken = copy(objects).filter((o) => o.kind !== 'ExternalSecret');
    find(broken, 'Job', 'upload-platform-migrate-1.0.0').metadata.name = 'upload-platform-migrate';
    expect(projectViolations(broken)).toEqual(
      expect.arrayContaining([
        'Deployment/upload-api: reads Secret upload-platform, which the overlay does not supply',
        'TriggerAuthentication/upload-platform-redis: reads Secret upload-platform, which the overlay does not supply',
        "Job/upload-platform-migrate: a Job's template is immutable; name it per release (-<image tag>)",
      ]),
    );
  });

  it('a Service no ServiceMonitor scrapes, or a scrape of a port no Service has, fails the project rules', () => {
    const unscraped = copy(objects);
    const selector = find(unscraped, 'ServiceMonitor', 'upload-platform').spec.selector.matchExpressions[0];
    selector.values = selector.values.filter((name: string) => name !== 'media-processor-video');
    expect(projectViolations(unscraped)).toEqual(['Service/media-processor-video: serves /metrics on port http, but no ServiceMonitor scrapes it']);

    const wrongPort = copy(objects);
    find(wrongPort, 'ServiceMonitor', 'upload-platform').spec.endpoints[0].port = 'metrics';
    expect(projectViolations(wrongPort)).toEqual(
      expect.arrayContaining([
        'Service/upload-api: serves /metrics on port http, but no ServiceMonitor scrapes it',
        'ServiceMonitor/upload-platform: Service/upload-api has no port metrics',
      ]),
    );
  });

  it('video workers that KEDA could stop mid-transcode fail the project rules', () => {
    const broken = copy(objects);
    const scaled = find(broken, 'ScaledObject', 'media-processor-video');
    scaled.spec.minReplicaCount = 0;
    scaled.spec.triggers = scaled.spec.triggers.filter((t: { metadata: { listName: string } }) => t.metadata.listName.endsWith(':wait'));
    find(broken, 'Deployment', 'media-processor-video').spec.template.spec.terminationGracePeriodSeconds = 35;
    expect(projectViolations(broken)).toEqual(
      expect.arrayContaining([
        'ScaledObject/media-processor-video: a long-job queue must keep a worker (minReplicaCount >= 1)',
        'ScaledObject/media-processor-video: must count active jobs, not only waiting ones',
        'Deployment/media-processor-video: terminationGracePeriodSeconds ends the drain early',
      ]),
    );
  });
});
