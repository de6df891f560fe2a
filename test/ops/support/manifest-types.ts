// Strict checks of Kubernetes objects against the kubernetes-models / @kubernetes-models/keda types. The
// models' runtime validate() checks types, enums and required fields but accepts unknown fields; here each
// object is also type-checked by the TypeScript compiler as an object literal of its model's interface, so a
// misspelt or misplaced field ("Object literal may only specify known properties") fails too.
import path from 'node:path';
import ts from 'typescript';
import type { K8sObject } from './kustomize.js';

/** kind → [module, interface] of its model. */
const models: Record<string, [string, string]> = {
  'apps/v1/Deployment': ['kubernetes-models/apps/v1/Deployment', 'IDeployment'],
  'v1/ConfigMap': ['kubernetes-models/v1/ConfigMap', 'IConfigMap'],
  'v1/Secret': ['kubernetes-models/v1/Secret', 'ISecret'],
  'policy/v1/PodDisruptionBudget': ['kubernetes-models/policy/v1/PodDisruptionBudget', 'IPodDisruptionBudget'],
  'networking.k8s.io/v1/NetworkPolicy': ['kubernetes-models/networking.k8s.io/v1/NetworkPolicy', 'INetworkPolicy'],
  'keda.sh/v1alpha1/ScaledObject': ['@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject', 'IScaledObject'],
  'keda.sh/v1alpha1/TriggerAuthentication': [
    '@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication',
    'ITriggerAuthentication',
  ],
};

export function modelKey(o: K8sObject): string {
  return `${o.apiVersion}/${o.kind}`;
}

export function hasModel(o: K8sObject): boolean {
  return modelKey(o) in models;
}

/** Type errors of each object, by its index in `objects` ([] when all are well-typed). */
export function typeErrors(objects: K8sObject[], label: string): string[] {
  const file = path.resolve(`test/ops/.manifests-${label}.ts`);
  const imports = new Set<string>();
  const lines: string[] = [];
  objects.forEach((o, i) => {
    const model = models[modelKey(o)];
    if (!model) throw new Error(`no model for ${modelKey(o)}`);
    imports.add(`import type { ${model[1]} } from '${model[0]}';`);
    lines.push(`export const m${i}: ${model[1]} = ${JSON.stringify(o)};`);
  });
  const source = [...imports, ...lines].join('\n');
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2023,
    skipLibCheck: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const read = host.readFile.bind(host);
  const exists = host.fileExists.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.readFile = (f) => (f === file ? source : read(f));
  host.fileExists = (f) => f === file || exists(f);
  host.getSourceFile = (f, lang, ...rest) =>
    f === file ? ts.createSourceFile(f, source, lang) : getSourceFile(f, lang, ...rest);
  const program = ts.createProgram([file], options, host);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const text = ts.flattenDiagnosticMessageText(d.messageText, '\n');
    const line = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line : -1;
    const o = line >= imports.size ? objects[line - imports.size] : undefined;
    return `${o ? `${o.kind}/${o.metadata.name}` : (d.file?.fileName ?? '?')}: ${text}`;
  });
}
