import { LocalReceiver, eventOf, type LocalReceiverOptions, type ReceivedSet, type ReceiverResponse } from '../../src/ssf/local-receiver.js';

export { eventOf, type ReceivedSet };

/** A real RFC 8935 push receiver for tests (202 for every request unless `respond` says otherwise). */
export interface TestReceiver {
  url: string;
  received: ReceivedSet[];
  respond: (set: ReceivedSet, n: number) => ReceiverResponse;
  setJwks(url: string): void;
  close(): Promise<void>;
}

export async function startReceiver(opts: LocalReceiverOptions = {}): Promise<TestReceiver> {
  const r = new LocalReceiver(opts);
  const t: TestReceiver = {
    url: await r.listen(),
    received: r.received,
    respond: () => ({ status: 202 }),
    setJwks: (url) => r.setJwks(url),
    close: () => r.close(),
  };
  r.respond = (set, n) => t.respond(set, n);
  return t;
}
