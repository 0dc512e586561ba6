import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';

/**
 * The checks CI runs on the rendered Kubernetes manifests (k8s/, docs/kubernetes.md): schemas,
 * Pod Security "restricted", and this project's rules. Each returns a list of violations, empty
 * when the objects pass, so a test can show both that the manifests pass and that a broken one
 * would not.
 */

const ROOT = path.resolve(__dirname, '../..');

/** A Kubernetes object as rendered; the checks read it loosely and report what they miss. */
export type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; [k: string]: any }; spec?: any; [k: string]: any };

const ref = (o: K8sObject) => `${o.kind}/${o.metadata.name}`;

/** `kubectl kustomize <dir>` (offline), parsed. */
export function render(dir: string): K8sObject[] {
  const out = spawnSync('kubectl', ['kustomize', path.join(ROOT, dir)], { encoding: 'utf8' });
  if (out.error) throw out.error;
  if (out.status !== 0) throw new Error(`kubectl kustomize ${dir} failed: ${out.stderr}`);
  return parseAllDocuments(out.stdout)
    .map((doc) => doc.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
}

/** Kubernetes, KEDA and Prometheus Operator schemas, through kubernetes-models (k8s-schemas.mjs, an ES module of its own). */
export function schemaViolations(objects: K8sObject[]): string[] {
  const out = spawnSync(process.execPath, [path.join(__dirname, 'k8s-schemas.mjs')], { input: JSON.stringify(objects), encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`k8s-schemas.mjs failed: ${out.stderr}`);
  return (JSON.parse(out.stdout) as { ref: string; error: string }[]).map((e) => `${e.ref}: ${e.error}`);
}

type PodOwner = { owner: K8sObject; pod: any; kind: 'service' | 'job' };

function pods(objects: K8sObject[]): PodOwner[] {
  return objects.flatMap((o): PodOwner[] => {
    if (['Deployment', 'StatefulSet', 'DaemonSet'].includes(o.kind)) return [{ owner: o, pod: o.spec?.template?.spec ?? {}, kind: 'service' }];
    if (o.kind === 'Job') return [{ owner: o, pod: o.spec?.template?.spec ?? {}, kind: 'job' }];
    if (o.kind === 'CronJob') return [{ owner: o, pod: o.spec?.jobTemplate?.spec?.template?.spec ?? {}, kind: 'job' }];
    if (o.kind === 'Pod') return [{ owner: o, pod: o.spec ?? {}, kind: 'service' }];
    return [];
  });
}

const containersOf = (pod: any): any[] => [...(pod.initContainers ?? []), ...(pod.containers ?? []), ...(pod.ephemeralContainers ?? [])];

const RESTRICTED_VOLUMES = ['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret'];

/**
 * Pod Security Standards, "restricted" profile (kubernetes.io/docs/concepts/security/pod-security-standards),
 * plus what this project adds to it: a read-only root filesystem, and every emptyDir size-limited.
 */
export function podSecurityViolations(objects: K8sObject[]): string[] {
  const found: string[] = [];
  for (const { owner, pod } of pods(objects)) {
    const at = ref(owner);
    for (const flag of ['hostNetwork', 'hostPID', 'hostIPC']) if (pod[flag]) found.push(`${at}: ${flag}`);
    for (const volume of pod.volumes ?? []) {
      const type = Object.keys(volume).find((k) => k !== 'name');
      if (!type || !RESTRICTED_VOLUMES.includes(type)) found.push(`${at}: volume ${volume.name} of type ${type}`);
      if (type === 'emptyDir' && !volume.emptyDir?.sizeLimit) found.push(`${at}: emptyDir ${volume.name} without sizeLimit`);
    }
    const podSc = pod.securityContext ?? {};
    if (podSc.runAsUser === 0) found.push(`${at}: pod runAsUser 0`);
    for (const c of containersOf(pod)) {
      const where = `${at} container ${c.name}`;
      const sc = c.securityContext ?? {};
      if (sc.privileged) found.push(`${where}: privileged`);
      if (sc.allowPrivilegeEscalation !== false) found.push(`${where}: allowPrivilegeEscalation is not false`);
      if (!(sc.capabilities?.drop ?? []).includes('ALL')) found.push(`${where}: capabilities do not drop ALL`);
      for (const cap of sc.capabilities?.add ?? []) if (cap !== 'NET_BIND_SERVICE') found.push(`${where}: adds capability ${cap}`);
      if ((sc.runAsNonRoot ?? podSc.runAsNonRoot) !== true) found.push(`${where}: runAsNonRoot is not true`);
      if (sc.runAsUser === 0) found.push(`${where}: runAsUser 0`);
      const seccomp = (sc.seccompProfile ?? podSc.seccompProfile)?.type;
      if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') found.push(`${where}: seccompProfile is ${seccomp ?? 'unset'}`);
      if (sc.procMount && sc.procMount !== 'Default') found.push(`${where}: procMount ${sc.procMount}`);
      for (const port of c.ports ?? []) if (port.hostPort) found.push(`${where}: hostPort ${port.hostPort}`);
      if (sc.readOnlyRootFilesystem !== true) found.push(`${where}: root filesystem is writable`);
    }
  }
  return found;
}

/** The tag (or digest) of an image reference; undefined when it has neither. */
function imageTag(image: string): string | undefined {
  if (image.includes('@')) return image.split('@')[1];
  const last = image.split('/').pop() ?? '';
  return last.includes(':') ? last.split(':')[1] : undefined;
}

/** Whether a label selector (matchLabels and matchExpressions) selects these labels. */
function selects(selector: any, labels: Record<string, string> = {}): boolean {
  const matchLabels = Object.entries((selector?.matchLabels ?? {}) as Record<string, string>);
  const expressions = (selector?.matchExpressions ?? []) as { key: string; operator: string; values?: string[] }[];
  return (
    matchLabels.every(([k, v]) => labels[k] === v) &&
    expressions.every(({ key, operator, values = [] }) => {
      if (operator === 'In') return values.includes(labels[key]);
      if (operator === 'NotIn') return !values.includes(labels[key]);
      if (operator === 'Exists') return key in labels;
      if (operator === 'DoesNotExist') return !(key in labels);
      return false;
    })
  );
}

/** Longest job (TRANSCODE_TIMEOUT_SECONDS' default, .env.example): a worker serving it must outlast it. */
const LONGEST_JOB_SECONDS = 3600;

/**
 * This project's rules (docs/kubernetes.md): no Secret in the base; no `replicas` where an
 * autoscaler owns it; every container with resources, every service container with probes;
 * PodDisruptionBudgets that never block a drain; immutable image tags; one migration Job per
 * release; workers of long jobs that outlast them; in an overlay, every service scraped.
 */
export function projectViolations(objects: K8sObject[], { base = false } = {}): string[] {
  const found: string[] = [];
  if (base) for (const o of objects.filter((x) => x.kind === 'Secret')) found.push(`${ref(o)}: a Secret in the base would overwrite the real one on apply`);

  const byName = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name);
  const scaled = new Map<string, any>();
  for (const o of objects) {
    if (o.kind === 'HorizontalPodAutoscaler' || o.kind === 'ScaledObject') {
      const target = o.spec?.scaleTargetRef ?? {};
      scaled.set(`${target.kind ?? 'Deployment'}/${target.name}`, o);
      if (!byName(target.kind ?? 'Deployment', target.name)) found.push(`${ref(o)}: scales ${target.name}, which is not rendered`);
    }
  }
  for (const o of objects.filter((x) => x.kind === 'Deployment' || x.kind === 'StatefulSet')) {
    const autoscaler = scaled.get(ref(o));
    if (autoscaler && o.spec?.replicas !== undefined) found.push(`${ref(o)}: sets replicas although ${ref(autoscaler)} owns them`);
  }

  for (const { owner, pod, kind } of pods(objects)) {
    for (const c of containersOf(pod)) {
      const where = `${ref(owner)} container ${c.name}`;
      const r = c.resources ?? {};
      if (!r.requests?.cpu || !r.requests?.memory || !r.limits?.memory) found.push(`${where}: needs requests.cpu, requests.memory and limits.memory`);
      const tag = imageTag(String(c.image ?? ''));
      if (!tag || tag === 'latest') found.push(`${where}: image ${c.image} has no immutable tag`);
      // Probes belong to long-running containers; a Job's container ends on its own.
      if (kind === 'service' && !(pod.initContainers ?? []).includes(c))
        for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) if (!c[probe]) found.push(`${where}: no ${probe}`);
    }
  }

  for (const o of objects.filter((x) => x.kind === 'PodDisruptionBudget')) {
    const max = o.spec?.maxUnavailable;
    if (o.spec?.minAvailable !== undefined) found.push(`${ref(o)}: minAvailable blocks drains of a single replica; use maxUnavailable`);
    else if (max === undefined || max === 0 || max === '0%') found.push(`${ref(o)}: maxUnavailable must let at least one pod go`);
  }

  for (const job of objects.filter((x) => x.kind === 'Job')) {
    const images = containersOf(job.spec?.template?.spec ?? {}).map((c: { image: string }) => imageTag(c.image));
    if (!images.some((tag) => tag && job.metadata.name.endsWith(`-${tag}`)))
      found.push(`${ref(job)}: a Job's template is immutable; name it per release (-<image tag>)`);
  }

  if (!base) {
    // The Secrets that pods and KEDA read must come with the overlay: generated (dev) or synced
    // by the External Secrets Operator (prod).
    const supplied = new Set([
      ...objects.filter((o) => o.kind === 'Secret').map((o) => o.metadata.name),
      ...objects.filter((o) => o.kind === 'ExternalSecret').map((o) => String(o.spec?.target?.name ?? o.metadata.name)),
    ]);
    const wanted = [
      ...pods(objects).flatMap(({ owner, pod }) =>
        containersOf(pod).flatMap((c: any) => (c.envFrom ?? []).filter((e: any) => e.secretRef).map((e: any) => [ref(owner), String(e.secretRef.name)])),
      ),
      ...objects.filter((o) => o.kind === 'TriggerAuthentication').flatMap((o) => (o.spec?.secretTargetRef ?? []).map((s: any) => [ref(o), String(s.name)])),
    ] as [string, string][];
    for (const [who, name] of wanted) if (!supplied.has(name)) found.push(`${who}: reads Secret ${name}, which the overlay does not supply`);

    // Every service serves /metrics on its `http` port (docs/monitoring.md): a Service a
    // ServiceMonitor misses is one no alert watches, and an endpoint naming a port the selected
    // Services lack scrapes nothing, silently.
    const monitors = objects.filter((o) => o.kind === 'ServiceMonitor');
    const services = objects.filter((o) => o.kind === 'Service');
    const portsOf = (svc: K8sObject): string[] => (svc.spec?.ports ?? []).map((p: { name?: string }) => p.name);
    for (const svc of services.filter((x) => portsOf(x).includes('http'))) {
      const scraped = monitors.some(
        (m) => selects(m.spec?.selector, svc.metadata.labels) && (m.spec?.endpoints ?? []).some((e: { port?: string }) => e.port === 'http'),
      );
      if (!scraped) found.push(`${ref(svc)}: serves /metrics on port http, but no ServiceMonitor scrapes it`);
    }
    for (const m of monitors) {
      const selected = services.filter((svc) => selects(m.spec?.selector, svc.metadata.labels));
      if (!selected.length) found.push(`${ref(m)}: selects no Service`);
      for (const e of m.spec?.endpoints ?? [])
        for (const svc of selected) if (!portsOf(svc).includes(e.port)) found.push(`${ref(m)}: ${ref(svc)} has no port ${e.port}`);
    }
  }

  for (const d of objects.filter((x) => x.kind === 'Deployment')) {
    const pod = d.spec?.template?.spec ?? {};
    const env = (pod.containers ?? []).flatMap((c: { env?: { name: string; value?: string }[] }) => c.env ?? []);
    const queues = env.find((e: { name: string }) => e.name === 'MEDIA_QUEUES')?.value ?? '';
    // Workers of hour-long jobs (video posters, transcodes; ADR 0027).
    if (!/\b(video|transcode)\b/.test(queues)) continue;
    const drainMs = Number(env.find((e: { name: string }) => e.name === 'SHUTDOWN_TIMEOUT_MS')?.value ?? 0);
    if (drainMs <= LONGEST_JOB_SECONDS * 1000) found.push(`${ref(d)}: SHUTDOWN_TIMEOUT_MS ${drainMs} would abandon a ${LONGEST_JOB_SECONDS} s job`);
    if ((pod.terminationGracePeriodSeconds ?? 30) * 1000 <= drainMs) found.push(`${ref(d)}: terminationGracePeriodSeconds ends the drain early`);
    const autoscaler = scaled.get(ref(d));
    if (autoscaler?.kind === 'ScaledObject') {
      if (!(autoscaler.spec?.minReplicaCount >= 1)) found.push(`${ref(autoscaler)}: a long-job queue must keep a worker (minReplicaCount >= 1)`);
      const lists = (autoscaler.spec?.triggers ?? []).map((t: { metadata?: { listName?: string } }) => t.metadata?.listName ?? '');
      if (!lists.some((l: string) => l.endsWith(':active'))) found.push(`${ref(autoscaler)}: must count active jobs, not only waiting ones`);
    }
  }
  return found;
}
