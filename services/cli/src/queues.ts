import type { QueueDepths } from '@evalfleet/shared/broker';

export type StageDepth = QueueDepths['stages'][number];

/** Work waits in the stage's queue and nobody consumes it: a run stalls there for good. */
export function isStarved(s: StageDepth): boolean {
  return (s.work ?? 0) > 0 && (s.consumers ?? 0) === 0;
}

export function starvedWarning(s: StageDepth): string {
  return (
    `WARNING: ${s.stage} has ${s.work ?? 0} queued message(s) and no consumer: is its service running? ` +
    `(evalfleet up restarts crashed services and says when it gives up on one; evalfleet logs shows why)`
  );
}

/** One line per stage (queued, consumers, dead letters), a warning under each starved one. */
export function queueBlock(stages: readonly StageDepth[]): string[] {
  const lines: string[] = [];
  for (const s of stages) {
    if (s.work === null) continue;
    lines.push(`${s.stage}: ${s.work} queued, ${s.consumers ?? 0} consumer(s), ${s.deadLetters ?? 0} dead`);
    if (isStarved(s)) lines.push(`  ${starvedWarning(s)}`);
  }
  return lines;
}

/** For `watch`: says when a stage becomes starved, once, and when it has a consumer again. */
export class QueueWarnings {
  private readonly starved = new Set<string>();

  update(stages: readonly StageDepth[]): string[] {
    const lines: string[] = [];
    for (const s of stages) {
      if (isStarved(s) && !this.starved.has(s.stage)) {
        this.starved.add(s.stage);
        lines.push(starvedWarning(s));
      } else if (!isStarved(s) && this.starved.has(s.stage)) {
        this.starved.delete(s.stage);
        if ((s.consumers ?? 0) > 0) lines.push(`${s.stage} has ${s.consumers ?? 0} consumer(s) again`);
      }
    }
    return lines;
  }
}
