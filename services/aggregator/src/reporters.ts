import type { RunRecord, StoredResult } from '@evalfleet/shared/runs';
import type { ArtifactStore } from '@evalfleet/shared/storage';
import type { Kind } from '@evalfleet/shared/messages';

/** Writes a kind's reports from its stored results; returns report name → artifact key. */
export type Reporter = (ctx: {
  record: RunRecord;
  results: StoredResult[];
  store: ArtifactStore;
}) => Promise<Record<string, string>>;

export type ReporterTable = Partial<Record<Kind, Reporter>>;
