import { makeEnvelope, type RunRequested } from '@evalfleet/shared/messages';
import type { Expansion } from './expand.js';

/** The smoke kind: `count` jobs that go straight to the aggregator. */
export function expandEcho(runId: string, request: Extract<RunRequested, { kind: 'echo' }>): Promise<Expansion> {
  const jobs = Array.from({ length: request.spec.count }, (_, index) => {
    const jobId = `echo-${index}`;
    return {
      jobId,
      envelope: () =>
        makeEnvelope({
          type: 'echo.job',
          runId,
          jobId,
          kind: 'echo',
          stage: 'aggregate',
          payload: { index, text: request.spec.text },
        }),
    };
  });
  return Promise.resolve({ jobs, meta: { text: request.spec.text } });
}
