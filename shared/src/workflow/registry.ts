import { ErrorCodes, PermanentError } from '../errors/index.js';
import { MessageCatalog, platformStages, type CatalogEntry, type Stage } from '../messages/index.js';
import type { CapabilityName } from './capabilities.js';
import type { RegisteredKind } from './define.js';
import { platformMessages, runRequestedSchemaFor } from './platform.js';
import { RESULT, type StageDef, type Target } from './types.js';

/** The worker stages every fleet knows; kinds may add their own (`KindDefinition.stages`). */
export const workerStages: readonly StageDef[] = [
  { name: 'generate', needs: 'models', description: 'calls models (generator)' },
  { name: 'evaluate', needs: 'sandbox', description: 'runs code against tests in the sandbox (evaluator)' },
  { name: 'mutate', needs: 'mutation', description: 'derives mutants of code (mutator)' },
];

export type ResolvedTarget = { kind: 'result' } | { kind: 'message'; entry: CatalogEntry };

/**
 * Every kind the fleet runs, and everything derived from them: the message catalog (envelope and
 * payload validation, `run.requested` and `job.result` unions), the stages (queues) and which
 * capability each needs, and the pipeline lookups that route a job from step to step.
 */
export class KindRegistry {
  readonly catalog: MessageCatalog;
  private readonly byName = new Map<string, RegisteredKind>();
  private readonly stageDefs = new Map<Stage, StageDef>();

  constructor(kinds: readonly RegisteredKind[]) {
    for (const k of kinds) {
      if (this.byName.has(k.name)) throw new Error(`kind ${k.name} is registered twice`);
      this.byName.set(k.name, k);
    }
    for (const s of [...workerStages, ...kinds.flatMap((k) => k.stages)]) {
      const existing = this.stageDefs.get(s.name);
      if (existing && existing.needs !== s.needs)
        throw new Error(`stage ${s.name} is declared needing both ${existing.needs} and ${s.needs}`);
      if (Object.values<string>(platformStages).includes(s.name)) throw new Error(`stage ${s.name} is the platform's`);
      this.stageDefs.set(s.name, s);
    }
    this.catalog = new MessageCatalog([...platformMessages(kinds), ...kinds.flatMap((k) => k.messages)], {
      kinds: this.byName.keys(),
    });
    for (const e of this.catalog.entries()) {
      if (!Object.values<string>(platformStages).includes(e.stage) && !this.stageDefs.has(e.stage))
        throw new Error(`message type ${e.type} travels on undeclared stage ${e.stage}`);
    }
  }

  kinds(): RegisteredKind[] {
    return [...this.byName.values()];
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  kind(name: string): RegisteredKind {
    const k = this.byName.get(name);
    if (!k)
      throw new PermanentError(ErrorCodes.unknownKind, `no kind ${name} is registered (${this.names().join(', ')})`);
    return k;
  }

  /** The stages (queues) this fleet declares. */
  stages(): Stage[] {
    return this.catalog.stages();
  }

  /** The worker stages a service that provides `capabilities` hosts. */
  stagesFor(capabilities: readonly CapabilityName[]): Stage[] {
    const used = new Set(this.catalog.stages());
    return [...this.stageDefs.values()]
      .filter((s) => used.has(s.name) && capabilities.includes(s.needs))
      .map((s) => s.name)
      .sort();
  }

  /** The message types that travel on `stage`. */
  typesOn(stage: Stage): CatalogEntry[] {
    return this.catalog.entries().filter((e) => e.stage === stage);
  }

  /** `run.requested` validated against every registered kind's spec. */
  runRequestedSchema() {
    return runRequestedSchemaFor(this.kinds());
  }

  /** Where a job of `kind` goes when step `from` (`produce` or a message type) ends with `outcome`. */
  resolve(kindName: string, from: string, outcome: string, payload: unknown): ResolvedTarget {
    const kind = this.kind(kindName);
    const edges = kind.pipeline[from];
    if (!edges) throw new PermanentError('workflow', `kind ${kindName} has no step ${from}`);
    let target: Target | undefined = edges[outcome];
    if (target === undefined)
      throw new PermanentError('workflow', `kind ${kindName}: ${from} has no transition for outcome ${outcome}`);
    while (typeof target !== 'string') target = target.while(payload) ? target.to : target.otherwise;
    if (target === RESULT) return { kind: 'result' };
    const entry = this.catalog.entry(target);
    if (!entry) throw new PermanentError('workflow', `kind ${kindName}: unknown message type ${target}`);
    return { kind: 'message', entry };
  }
}
