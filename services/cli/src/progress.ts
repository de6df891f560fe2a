import type { RunProgress } from '@evalfleet/shared/runs';

/** Rate and ETA over a sliding window of progress samples. */
export class RateMeter {
  private samples: { t: number; done: number }[] = [];
  constructor(private readonly windowMs = 15_000) {}

  add(done: number, t = Date.now()): void {
    this.samples.push({ t, done });
    while (this.samples.length > 2 && t - this.samples[0]!.t > this.windowMs) this.samples.shift();
  }

  perSecond(): number {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    if (!first || !last || last.t === first.t) return 0;
    return (last.done - first.done) / ((last.t - first.t) / 1000);
  }
}

function duration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

/** Outcome tallies (`outcome:passed` → passed 12) in a stable order. */
export function outcomeSummary(progress: RunProgress): string {
  const parts = Object.entries(progress.outcomes)
    .filter(([k]) => k.startsWith('outcome:'))
    .map(([k, v]) => [k.slice('outcome:'.length), v] as const)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return parts.map(([k, v]) => `${k} ${v}`).join(', ');
}

/** Per-stage counts (`evaluate:passed` → evaluate passed 3). */
export function stageSummary(progress: RunProgress): string {
  const byStage = new Map<string, string[]>();
  for (const [k, v] of Object.entries(progress.stages).sort()) {
    // `<stage>[/<kind's progress label>]:<outcome>`; the label may hold anything but the last ':'.
    const cut = k.lastIndexOf(':');
    const stage = k.slice(0, cut);
    const outcome = k.slice(cut + 1);
    if (cut <= 0 || !outcome) continue;
    byStage.set(stage, [...(byStage.get(stage) ?? []), `${outcome} ${v}`]);
  }
  return [...byStage].map(([stage, parts]) => `${stage}: ${parts.join(' ')}`).join(' | ');
}

/** One progress line: bar, done/total, rate, ETA and verdicts. */
export function progressLine(progress: RunProgress, rate: number, width = 28): string {
  const total = progress.total ?? 0;
  const frac = total > 0 ? Math.min(1, progress.done / total) : 0;
  const filled = Math.round(frac * width);
  const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
  const eta = rate > 0 ? duration((total - progress.done) / rate) : '--:--';
  const outcomes = outcomeSummary(progress);
  return `${bar} ${progress.done}/${progress.total ?? '?'} ${(frac * 100).toFixed(0)}% ${rate.toFixed(1)}/s ETA ${eta}${outcomes ? ` | ${outcomes}` : ''}`;
}
