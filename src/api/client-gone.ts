import type { FastifyReply } from 'fastify';
import { RiskstreamError } from '../errors.js';

/**
 * A signal aborted (reason: a `CLIENT_CLOSED` error) when the connection of `reply` closes before
 * its answer was sent: the client gave up (a shipper's request timeout, a killed script) and will
 * never read the answer — a shipper sends the body again. Work not yet done for it (an ingest body
 * still waiting its turn, its next chunk) is then not done: it would only be appended twice.
 */
export function clientGone(reply: FastifyReply): AbortSignal {
  const ac = new AbortController();
  const res = reply.raw;
  const onClose = (): void => {
    if (!res.writableFinished) ac.abort(new RiskstreamError('CLIENT_CLOSED', 'the client closed the connection before the answer'));
  };
  if (res.destroyed) onClose();
  else res.once('close', onClose);
  return ac.signal;
}
