// Validates Kubernetes objects against the Kubernetes, KEDA and Prometheus Operator OpenAPI schemas
// (kubernetes-models, @kubernetes-models/keda, @kubernetes-models/prometheus-operator). A separate ES
// module run by test/integration/k8s-manifests.int.ts: these packages are ESM-only, which jest's
// CommonJS runtime cannot load.
// stdin: a JSON array of objects; stdout: a JSON array of { ref, error }, empty when all are valid.
import * as apps from 'kubernetes-models/apps/v1';
import * as autoscaling from 'kubernetes-models/autoscaling/v2';
import * as batch from 'kubernetes-models/batch/v1';
import * as networking from 'kubernetes-models/networking.k8s.io/v1';
import * as policy from 'kubernetes-models/policy/v1';
import * as core from 'kubernetes-models/v1';
import * as keda from '@kubernetes-models/keda/keda.sh/v1alpha1';
import * as monitoring from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';

const models = {
  v1: core,
  'apps/v1': apps,
  'autoscaling/v2': autoscaling,
  'batch/v1': batch,
  'networking.k8s.io/v1': networking,
  'policy/v1': policy,
  'keda.sh/v1alpha1': keda,
  'monitoring.coreos.com/v1': monitoring,
};

/**
 * Kinds with no published model: checked for the fields this project relies on, so that an
 * object of an unknown kind is never waved through.
 */
const shapes = {
  'external-secrets.io/v1/ExternalSecret': (o) =>
    typeof o.spec?.secretStoreRef?.name === 'string' && typeof o.spec?.target?.name === 'string' && Array.isArray(o.spec?.dataFrom ?? o.spec?.data)
      ? undefined
      : 'needs spec.secretStoreRef.name, spec.target.name and spec.data or spec.dataFrom',
};

const input = JSON.parse(await new Response(process.stdin).text());
const errors = [];
for (const object of input) {
  const ref = `${object.kind}/${object.metadata?.name}`;
  const Model = models[object.apiVersion]?.[object.kind];
  const shape = shapes[`${object.apiVersion}/${object.kind}`];
  try {
    if (Model) new Model(object).validate();
    else if (shape) {
      const problem = shape(object);
      if (problem) throw new Error(problem);
    } else throw new Error(`no schema for ${object.apiVersion} ${object.kind}`);
  } catch (error) {
    errors.push({ ref, error: error instanceof Error ? error.message : String(error) });
  }
}
process.stdout.write(JSON.stringify(errors));
