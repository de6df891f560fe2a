// k8s/: every object of the base and of each overlay, rendered, validated against the Kubernetes and KEDA
// schemas (kubernetes-models validate(): types, enums, required fields) and type-checked against the models'
// interfaces (unknown fields fail); plus the operational properties docs/operations.md promises.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { IScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import type { ITriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import { TriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication';
import { kustomize, type K8sObject } from './support/kustomize.js';
import { typeErrors } from './support/manifest-types.js';

const builds = { base: 'k8s/base', dev: 'k8s/overlays/dev', prod: 'k8s/overlays/prod' } as const;
const workers = ['producer', 'generator', 'evaluator', 'aggregator'];

// One model class per kind; validate() throws on a schema violation.
const classes: Record<string, new (data: never) => { validate(): void }> = {
  ConfigMap,
  Secret,
  Deployment,
  PodDisruptionBudget,
  NetworkPolicy,
  ScaledObject,
  TriggerAuthentication,
};

function validate(o: K8sObject): void {
  const Model = classes[o.kind];
  if (!Model) throw new Error(`no model for kind ${o.kind}`);
  new Model(o as never).validate();
}

function find<T>(objects: K8sObject[], kind: string, name: string): T {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`${kind}/${name} missing`);
  return o as unknown as T;
}

const deployment = (objects: K8sObject[], name: string) => find<IDeployment>(objects, 'Deployment', name);
const scaledObject = (objects: K8sObject[], name: string) => find<IScaledObject>(objects, 'ScaledObject', name);

function kubectlAnswers(): boolean {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore', timeout: 20_000 });
    return true;
  } catch {
    return false;
  }
}

function byKey(objects: K8sObject[]): Record<string, K8sObject> {
  return Object.fromEntries(objects.map((o) => [`${o.kind}/${o.metadata.name}`, o]));
}

describe.each(Object.entries(builds))('k8s %s', (label, dir) => {
  const objects = kustomize(dir);

  it('every object validates against its Kubernetes or KEDA schema', () => {
    expect(objects.length).toBeGreaterThan(0);
    for (const o of objects) expect(() => validate(o), `${o.kind}/${o.metadata.name}`).not.toThrow();
  });

  it('every object type-checks against its model (no unknown fields)', () => {
    expect(typeErrors(objects, label)).toEqual([]);
  }, 60_000);

  it.runIf(kubectlAnswers())('renders as kubectl kustomize does', () => {
    const out = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', timeout: 60_000 });
    const theirs = parseAllDocuments(out).map((d) => d.toJSON() as K8sObject);
    expect(byKey(objects)).toEqual(byKey(theirs));
  });

  it('each service: probes, resources, grace period above the longest job, a draining preStop', () => {
    for (const name of workers) {
      const template = deployment(objects, name).spec!.template;
      const spec = template.spec!;
      const c = spec.containers[0]!;
      expect(c.readinessProbe?.httpGet?.path).toBe('/readyz');
      expect(c.livenessProbe?.httpGet?.path).toBe('/healthz');
      expect(c.resources?.requests).toBeDefined();
      expect(c.resources?.limits).toBeDefined();
      // Handler timeout of generate/evaluate is 5 minutes; the service's own deadline sits below the grace period.
      const grace = spec.terminationGracePeriodSeconds ?? 30;
      expect(grace).toBeGreaterThan(300);
      const shutdownMs = Number(c.env?.find((e) => e.name === 'SHUTDOWN_TIMEOUT_MS')?.value);
      expect(shutdownMs).toBeGreaterThan(300_000);
      expect(shutdownMs / 1000).toBeLessThan(grace);
      expect(c.lifecycle?.preStop?.exec?.command?.join(' ')).toContain('kill -TERM 1');
      expect(c.envFrom).toEqual([
        { configMapRef: { name: 'evalfleet-config' } },
        { secretRef: { name: 'evalfleet-secrets' } },
      ]);
      expect(template.metadata?.annotations?.['prometheus.io/scrape']).toBe('true');
      find(objects, 'PodDisruptionBudget', name);
    }
  });

  it('evaluator pods: a DinD sidecar with its own storage, never the host socket', () => {
    const spec = deployment(objects, 'evaluator').spec!.template.spec!;
    const dind = spec.initContainers?.find((c) => c.name === 'dind');
    expect(dind?.restartPolicy).toBe('Always');
    expect(spec.volumes?.find((v) => v.name === 'dind-storage')?.emptyDir).toBeDefined();
    expect(JSON.stringify(spec)).not.toContain('/var/run/docker.sock');
    expect(JSON.stringify(spec.volumes)).not.toContain('hostPath');
    const np = find<INetworkPolicy>(objects, 'NetworkPolicy', 'evaluator-sandbox').spec!;
    expect(np.podSelector?.matchLabels).toEqual({ 'app.kubernetes.io/name': 'evaluator' });
    expect(np.policyTypes).toEqual(['Ingress', 'Egress']);
  });

  it('KEDA: generator and evaluator scale on their quorum queues through the management API', () => {
    const auth = find<ITriggerAuthentication>(objects, 'TriggerAuthentication', 'evalfleet-rabbitmq').spec;
    expect(auth.secretTargetRef?.[0]).toMatchObject({ parameter: 'host', name: 'evalfleet-keda-rabbitmq' });
    for (const stage of ['generate', 'evaluate']) {
      const name = stage === 'generate' ? 'generator' : 'evaluator';
      const so = scaledObject(objects, name).spec;
      expect(so.scaleTargetRef.name).toBe(name);
      expect(so.maxReplicaCount).toBeGreaterThan(so.minReplicaCount ?? 0);
      expect(so.cooldownPeriod).toBeGreaterThan(0);
      const trigger = so.triggers[0]!;
      expect(trigger.type).toBe('rabbitmq');
      expect(trigger.metadata).toMatchObject({
        protocol: 'http',
        mode: 'QueueLength',
        queueName: `evalfleet.${stage}`,
      });
      expect(trigger.metadata.activationValue).toBeDefined();
      expect(trigger.authenticationRef?.name).toBe('evalfleet-rabbitmq');
    }
  });
});

describe('k8s overlays', () => {
  it('prod runs evaluators under Sysbox without privileges; dev generates its secrets, prod does not', () => {
    const prod = kustomize(builds.prod);
    const spec = deployment(prod, 'evaluator').spec!.template.spec!;
    expect(spec.runtimeClassName).toBe('sysbox-runc');
    expect(spec.initContainers?.[0]?.securityContext?.privileged).toBe(false);
    expect(prod.filter((o) => o.kind === 'Secret')).toEqual([]);
    expect(prod.every((o) => o.metadata.namespace === 'evalfleet')).toBe(true);
    const dev = kustomize(builds.dev);
    expect(dev.filter((o) => o.kind === 'Secret').map((o) => o.metadata.name)).toEqual([
      'evalfleet-secrets',
      'evalfleet-keda-rabbitmq',
    ]);
  });

  it('a wrong field fails the checks', () => {
    const objects = kustomize(builds.base);
    // Misspelt fields, as a careless edit of the YAML would put them.
    const dep = structuredClone(find<K8sObject>(objects, 'Deployment', 'generator'));
    Object.assign((dep as unknown as IDeployment).spec!.template.spec!.containers[0]!, {
      readinesProbe: { httpGet: { path: '/readyz', port: 9464 } },
    });
    const so = structuredClone(find<K8sObject>(objects, 'ScaledObject', 'evaluator'));
    const trigger = (so as unknown as IScaledObject).spec.triggers[0]!;
    Object.assign(trigger, { metdata: trigger.metadata });
    const errors = typeErrors([dep, so], 'wrong');
    expect(errors.join('\n')).toMatch(/Deployment\/generator: .*readinesProbe/);
    expect(errors.join('\n')).toMatch(/ScaledObject\/evaluator: .*metdata/);
    const typed = structuredClone(find<K8sObject>(objects, 'ScaledObject', 'generator'));
    Object.assign((typed as unknown as IScaledObject).spec, { maxReplicaCount: 'ten' });
    expect(() => validate(typed)).toThrow(/maxReplicaCount/);
  }, 60_000);
});
