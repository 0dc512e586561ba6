import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { K8sObject, render } from './k8s-rules';

/**
 * The monitoring component (k8s/components/monitoring, docs/monitoring.md) as the overlays render
 * it: the alerts pass `promtool check rules` and their unit tests (deploy/monitoring/alerts.test.yaml),
 * one firing and one silent case each; every dashboard query parses; and every metric, label and
 * label value a rule or panel reads is one the services export (deploy/monitoring/metrics.yaml).
 * promtool comes with Debian's `prometheus` package; without it these tests fail, never skip.
 */
const ROOT = path.resolve(__dirname, '../..');
const OVERLAYS = ['k8s/overlays/dev', 'k8s/overlays/prod'];
const DASHBOARD_FILE = 'k8s/components/monitoring/dashboards/upload-platform.json';
const RUNBOOK = 'https://github.com/example/upload-platform/blob/main/docs/monitoring.md';

type Rule = { alert?: string; record?: string; expr: string; for?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
type RuleTest = { name: string; alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[] };
type Panel = { id: number; type: string; title: string; datasource?: { uid: string }; targets?: { refId: string; expr: string }[] };
type Catalogue = {
  target_labels: Record<string, string[] | null>;
  metrics: Record<string, { type: 'counter' | 'gauge' | 'histogram'; services: string[]; labels: Record<string, string[] | null> }>;
};

const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');
const find = (objects: K8sObject[], kind: string, name: string): K8sObject => {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`${kind}/${name} is not rendered`);
  return found;
};
const rulesOf = (spec: { groups: { rules: Rule[] }[] }): Rule[] => spec.groups.flatMap((g) => g.rules);
const panelsOf = (dashboard: { panels: Panel[] }): Panel[] => dashboard.panels.filter((p) => p.type !== 'row');

/** promtool in `dir`; a missing promtool throws, so the tier fails rather than skips. */
function promtool(dir: string, ...args: string[]): { ok: boolean; output: string } {
  const out = spawnSync('promtool', args, { cwd: dir, encoding: 'utf8' });
  if (out.error) throw new Error(`promtool did not run (${out.error.message}): apt-get install -y --no-install-recommends prometheus`);
  return { ok: out.status === 0, output: `${out.stdout}${out.stderr}` };
}

/** Grafana's interval variables as promtool can parse them. */
const grafanaFree = (expr: string) => expr.replaceAll('$__rate_interval', '5m').replaceAll('$__interval', '1m').replaceAll('$__range', '1h');

/** The dashboard's queries as recording rules, which `promtool check rules` parses. */
const dashboardRules = (dashboard: { panels: Panel[] }) => ({
  groups: [
    {
      name: 'dashboard',
      rules: panelsOf(dashboard).flatMap((p) => (p.targets ?? []).map((t) => ({ record: `dashboard:panel_${p.id}_${t.refId}`, expr: grafanaFree(t.expr) }))),
    },
  ],
});

type Selector = { metric: string; matchers: { label: string; op: string; value: string }[] };

const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'inf', 'nan']);
const AGGREGATIONS = new Set(['sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count', 'count_values', 'bottomk', 'topk', 'quantile']);
const LABEL_LISTS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
const TOKENS = /\s+|"(?:[^"\\]|\\.)*"|\{[^}]*\}|\[[^\]]*\]|[A-Za-z_:][\w:]*|[\d.]+(?:e[+-]?\d+)?[a-z]*|\(|\)|,|[^\s\w(),]+/gy;

/**
 * The vector selectors of a PromQL expression and the labels it groups or matches by. A small
 * lexer, enough for the expressions here: a name followed by `(` is a function, a name in a
 * keyword's label list is a label, every other name is a metric.
 */
function readPromQL(expr: string): { selectors: Selector[]; grouping: string[] } {
  const tokens = (grafanaFree(expr).match(TOKENS) ?? []).filter((t) => t.trim());
  const selectors: Selector[] = [];
  const grouping: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    if (LABEL_LISTS.has(token) && tokens[i + 1] === '(') {
      for (i += 2; tokens[i] !== ')'; i++) if (tokens[i] !== ',') grouping.push(tokens[i]);
    } else if (/^[A-Za-z_:]/.test(token) && !KEYWORDS.has(token) && !AGGREGATIONS.has(token) && tokens[i + 1] !== '(') {
      const braces = tokens[i + 1]?.startsWith('{') ? tokens[++i] : '{}';
      const matchers = [...braces.matchAll(/([A-Za-z_]\w*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"/g)].map(([, label, op, value]) => ({ label, op, value }));
      selectors.push({ metric: token, matchers });
    } else if (token.startsWith('{')) throw new Error(`a selector without a metric name in ${expr}`);
  }
  return { selectors, grouping };
}

/** The exported metric behind a series name (a histogram's _bucket, _sum, _count), or undefined. */
function metricOf(catalogue: Catalogue, series: string): string | undefined {
  if (catalogue.metrics[series]) return series;
  const base = series.replace(/_(bucket|sum|count)$/, '');
  return catalogue.metrics[base]?.type === 'histogram' ? base : undefined;
}

/** Everything in `expr` that reads a series, label or value the services do not export. */
function unknownSeries(catalogue: Catalogue, expr: string): string[] {
  const found: string[] = [];
  const { selectors, grouping } = readPromQL(expr);
  const known = new Set(['le', ...Object.keys(catalogue.target_labels)]);
  for (const { metric: series, matchers } of selectors) {
    const metric = metricOf(catalogue, series);
    if (!metric) {
      found.push(`${series}: no such metric`);
      continue;
    }
    const spec = catalogue.metrics[metric];
    const labels: Record<string, string[] | null> = {
      ...catalogue.target_labels,
      service: spec.services.length ? spec.services : null,
      ...spec.labels,
      ...(series.endsWith('_bucket') ? { le: null } : {}),
    };
    Object.keys(labels).forEach((l) => known.add(l));
    for (const { label, op, value } of matchers) {
      if (!(label in labels)) found.push(`${series}: no label ${label}`);
      const values = labels[label];
      if (!values) continue;
      // Each alternative must be a value the label takes (a pattern: match one), or the matcher silently matches nothing.
      const alternatives = op.endsWith('~') ? value.split('|') : [value];
      for (const alt of alternatives) {
        const pattern = new RegExp(`^(?:${op.endsWith('~') ? alt : alt.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')})$`);
        if (!values.some((v) => pattern.test(v))) found.push(`${series}: ${label} is never "${alt}"`);
      }
    }
  }
  for (const label of grouping) if (!known.has(label)) found.push(`no series here has the label ${label}`);
  return found;
}

const metricsIn = (catalogue: Catalogue, expr: string) => new Set(readPromQL(expr).selectors.map((s) => metricOf(catalogue, s.metric) ?? s.metric));

let dir: string;
let objects: K8sObject[];
let rules: Rule[];
let dashboard: { uid: string; title: string; panels: Panel[] };
let catalogue: Catalogue;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'monitoring-'));
  objects = render('k8s/overlays/prod');
  rules = rulesOf(find(objects, 'PrometheusRule', 'upload-platform').spec);
  dashboard = JSON.parse(read(DASHBOARD_FILE)) as typeof dashboard;
  catalogue = parse(read('deploy/monitoring/metrics.yaml')) as Catalogue;
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The rendered rules as alerts.yaml and their unit tests beside them, as alerts.test.yaml names it. */
function writeRules(spec: unknown): void {
  fs.writeFileSync(path.join(dir, 'alerts.yaml'), stringify(spec));
  fs.copyFileSync(path.join(ROOT, 'deploy/monitoring/alerts.test.yaml'), path.join(dir, 'alerts.test.yaml'));
}

describe('the alerts (PrometheusRule upload-platform)', () => {
  it('pass promtool check rules', () => {
    writeRules(find(objects, 'PrometheusRule', 'upload-platform').spec);
    const check = promtool(dir, 'check', 'rules', 'alerts.yaml');
    expect(check).toEqual({ ok: true, output: expect.stringContaining('SUCCESS') });
  });

  it('behave as their unit tests say (promtool test rules)', () => {
    writeRules(find(objects, 'PrometheusRule', 'upload-platform').spec);
    const run = promtool(dir, 'test', 'rules', 'alerts.test.yaml');
    expect(run).toEqual({ ok: true, output: expect.stringContaining('SUCCESS') });
  });

  it('each have a test where they fire and one where they stay silent', () => {
    const tests = (parse(read('deploy/monitoring/alerts.test.yaml')) as { tests: RuleTest[] }).tests.flatMap((t) => t.alert_rule_test ?? []);
    const untested = rules.flatMap(({ alert }) => {
      const mine = tests.filter((t) => t.alertname === alert);
      return [
        ...(mine.some((t) => t.exp_alerts?.length) ? [] : [`${alert}: no test where it fires`]),
        ...(mine.some((t) => Array.isArray(t.exp_alerts) && !t.exp_alerts.length) ? [] : [`${alert}: no test where it stays silent`]),
      ];
    });
    expect(untested).toEqual([]);
  });

  it('each have a severity, a summary, a description and a runbook section in docs/monitoring.md', () => {
    const headings = new Set([...read('docs/monitoring.md').matchAll(/^#+ (\S+)\s*$/gm)].map(([, h]) => h));
    expect(rules.every((r) => r.alert)).toBe(true);
    for (const rule of rules)
      expect(rule).toMatchObject({
        labels: { severity: expect.stringMatching(/^(critical|warning)$/) },
        annotations: { summary: expect.any(String), description: expect.any(String), runbook_url: `${RUNBOOK}#${rule.alert!.toLowerCase()}` },
      });
    expect(rules.filter((r) => !headings.has(r.alert!)).map((r) => `${r.alert}: no section in docs/monitoring.md`)).toEqual([]);
  });

  it('are the same in every overlay', () => {
    const specs = OVERLAYS.map((o) => find(render(o), 'PrometheusRule', 'upload-platform').spec as unknown);
    expect(specs[0]).toEqual(specs[1]);
  });

  it('fail promtool when an expression does not parse, or an alert no longer does what its tests say', () => {
    const spec = structuredClone(find(objects, 'PrometheusRule', 'upload-platform').spec);
    const http = rulesOf(spec).find((r) => r.alert === 'UploadPlatformHttpErrors')!;

    http.expr = http.expr.replace('> 0.05', '> 0.5');
    writeRules(spec);
    const tests = promtool(dir, 'test', 'rules', 'alerts.test.yaml');
    expect(tests).toEqual({ ok: false, output: expect.stringContaining('alertname: UploadPlatformHttpErrors') });

    http.expr = 'sum(rate(http_request_duration_seconds_count[5m])';
    writeRules(spec);
    expect(promtool(dir, 'check', 'rules', 'alerts.yaml').ok).toBe(false);
  });
});

describe('the dashboard (ConfigMap upload-platform-dashboard)', () => {
  it('is the JSON file, with a stable uid, every panel on the chosen Prometheus data source', () => {
    for (const overlay of OVERLAYS)
      expect(find(render(overlay), 'ConfigMap', 'upload-platform-dashboard').data).toEqual({ 'upload-platform.json': read(DASHBOARD_FILE) });
    // Links and bookmarks carry the uid: change it only on purpose.
    expect(dashboard).toMatchObject({ uid: 'upload-platform', title: 'Upload platform' });
    expect(new Set(dashboard.panels.map((p) => p.id)).size).toBe(dashboard.panels.length);
    // The data source is a variable, so the dashboard works whatever Grafana named Prometheus.
    const problems = panelsOf(dashboard).flatMap((p) => [
      ...(p.datasource?.uid === '${datasource}' ? [] : [`${p.title}: data source ${p.datasource?.uid}`]),
      ...(p.targets?.length && p.targets.every((t) => t.expr.trim()) ? [] : [`${p.title}: no query`]),
    ]);
    expect(problems).toEqual([]);
  });

  it('has queries that all parse (promtool check rules, as recording rules)', () => {
    fs.writeFileSync(path.join(dir, 'dashboard.yaml'), stringify(dashboardRules(dashboard)));
    const check = promtool(dir, 'check', 'rules', 'dashboard.yaml');
    expect(check).toEqual({ ok: true, output: expect.stringContaining('SUCCESS') });
  });

  it('fails the check on a query that does not parse', () => {
    const broken = structuredClone(dashboard);
    panelsOf(broken)[1].targets![0].expr = 'sum by (service) (rate(http_request_duration_seconds_count[$__rate_interval])';
    fs.writeFileSync(path.join(dir, 'dashboard.yaml'), stringify(dashboardRules(broken)));
    expect(promtool(dir, 'check', 'rules', 'dashboard.yaml').ok).toBe(false);
  });
});

describe('the series that rules and panels read', () => {
  const expressions = () => [
    ...rules.map((r) => ({ where: `alert ${r.alert}`, expr: r.expr })),
    ...panelsOf(dashboard).flatMap((p) => (p.targets ?? []).map((t) => ({ where: `panel ${p.title} ${t.refId}`, expr: t.expr }))),
  ];

  it('are all exported, with the labels and values used', () => {
    const unknown = expressions().flatMap(({ where, expr }) => unknownSeries(catalogue, expr).map((problem) => `${where}: ${problem}`));
    expect(unknown).toEqual([]);
    // The reader finds what it should: guards against a lexer that silently reads nothing.
    expect(expressions().filter(({ expr }) => !metricsIn(catalogue, expr).size)).toEqual([]);
    expect([...metricsIn(catalogue, rules.find((r) => r.alert === 'WebhookDeliveriesDead')!.expr)]).toEqual(['webhook_attempts_total']);
    expect([...metricsIn(catalogue, panelsOf(dashboard).find((p) => p.title === 'Pool connections')!.targets![1].expr)]).toEqual(['db_pool_max_connections']);
  });

  it('refuse a misspelt metric, label or value', () => {
    expect(unknownSeries(catalogue, 'max(queue_job{state="waiting"})')).toEqual(['queue_job: no such metric']);
    expect(unknownSeries(catalogue, 'max by (queue) (queue_jobs{state="wating", queu="sync"})')).toEqual([
      'queue_jobs: state is never "wating"',
      'queue_jobs: no label queu',
    ]);
    expect(unknownSeries(catalogue, 'sum by (servce) (rate(malware_scans_total{outcome=~"clean|unavailble"}[5m]))')).toEqual([
      'malware_scans_total: outcome is never "unavailble"',
      'no series here has the label servce',
    ]);
    expect(unknownSeries(catalogue, 'histogram_quantile(0.9, sum by (le) (rate(sqs_messages_bucket[5m])))')).toEqual(['sqs_messages_bucket: no such metric']);
  });

  it('include, for every alert, its metrics on the dashboard', () => {
    const onDashboard = new Set(panelsOf(dashboard).flatMap((p) => (p.targets ?? []).flatMap((t) => [...metricsIn(catalogue, t.expr)])));
    const missing = rules.flatMap((r) => [...metricsIn(catalogue, r.expr)].filter((m) => !onDashboard.has(m)).map((m) => `${r.alert}: ${m}`));
    expect(missing).toEqual([]);
  });
});
