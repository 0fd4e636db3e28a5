import { processingFailedCode } from '../engine/owner-apply.js';
import { aloneFailedCode } from '../engine/poison-guard.js';
import { isRiskstreamError } from '../errors.js';
import type { OwnerParts } from '../engine/owner-types.js';
import type { Logger } from '../obs/logger.js';
import type { Metrics } from '../obs/metrics.js';
import type { IngestRuntime } from './ingest-runtime.js';

/**
 * The partition owner's reports to the operator: its dead letters (through ingest's write-once
 * dead-lettering; those the reducer threw on also counted as poisoned, by their error code), a
 * failed commit and a fenced one (logged and counted).
 */
export function ownerHooks(d: {
  ingest: IngestRuntime;
  metrics: Metrics;
  logger: Logger;
}): Pick<OwnerParts, 'deadLetter' | 'onCommitError' | 'onFenced' | 'onApplyError'> {
  return {
    deadLetter: async (bad) => {
      const written = await d.ingest.deadLetter(bad);
      // Only those whose scoring threw, or that failed or crashed every try alone: an entry that is no routed items is a dead letter, not poisoned (its reason is a decoder's message).
      bad.forEach((b, i) => {
        const code = processingFailedCode(b.reason) ?? aloneFailedCode(b.reason);
        if (written[i] && code !== undefined) d.metrics.poisoned.inc({ stream: b.raw.stream, code });
      });
    },
    onCommitError: (err) => {
      d.metrics.pipelineErrors.inc();
      // Expected while a slot is resharded: the commit wrote nothing, the partition commits again once it is served.
      if (isRiskstreamError(err, 'SLOT_MIGRATING'))
        d.logger.warn({ err }, 'commit refused while its slot migrates (nothing written); re-reading from the committed position');
      else d.logger.error({ err }, 'commit failed; re-reading from the committed position');
    },
    onApplyError: (p, err) => {
      d.metrics.pipelineErrors.inc();
      d.logger.error({ err, partition: p }, 'partition apply failed; re-reading it from its committed position');
    },
    onFenced: (p) => {
      d.metrics.fenced.inc();
      d.logger.warn({ partition: p }, 'commit refused: the partition lease moved (its new owner redoes the work)');
    },
  };
}
