import { describe, expect, it } from 'vitest';
import { riskstreamSchema } from '../../src/config/schema.js';
import { ownStreamRole, streamNames } from '../../src/config/stream-names.js';
import { Keys } from '../../src/keys.js';
import { ROUTER_RESOURCE } from '../../src/engine/router.js';

/** `replay --stream` refuses riskstream's own streams (ownStreamRole): every one of them, inputs never. */
const prefix = 'rs-names';
const raw = riskstreamSchema.parse({ redis: { prefix } });
const names = streamNames(raw);
const keys = new Keys(prefix);
const role = (stream: string): string | undefined => ownStreamRole(names, prefix, stream);

describe('ownStreamRole', () => {
  it('the input streams are no own stream', () => {
    for (const s of names.inputs) expect(role(s)).toBeUndefined();
    expect(role('somewhere-else')).toBeUndefined();
  });

  it('names the dead-letter, risk-events, audit, control and partition streams', () => {
    for (const s of [names.deadLetter, names.riskEvents, names.audit, keys.controlStream, keys.partitionIn(0), keys.partitionIn(17)])
      expect(role(s)).toBeDefined();
  });

  it("names a user's risk events and outbox streams too: the relay reads an outbox as level changes", () => {
    const user = 'alice@example.com';
    expect(role(keys.userEvents(user))).toBeDefined();
    expect(role(keys.userOutbox(user))).toBeDefined();
  });

  it('names the SSF stream changes stream (workers re-read the SSF streams it names)', () => {
    expect(role(keys.ssfStreamChanges)).toBeDefined();
  });

  it("names riskstream's other keys under the prefix, and BullMQ's, which are no stream (found by a black-box audit: replay --stream <prefix>:{r:*}:lease made the router lease a stream, and a worker then never routed input, with no error)", () => {
    const user = 'alice@example.com';
    for (const k of [
      keys.engineLease(ROUTER_RESOURCE),
      keys.engineEpoch(ROUTER_RESOURCE),
      keys.engineLease('p3'),
      keys.engineMembers,
      keys.enginePartitions,
      keys.engineWorkerId('host-1'),
      keys.userEnqueued(user),
      keys.userDelivered(user),
      keys.userSendLock(user, 'rx'),
      keys.userPolicyDone(user, 'm'),
      keys.ipLogins('203.0.113.9', 2),
      keys.ipSprayGeneration(),
      keys.behaviorEpochs(),
      keys.receiversKnown,
      keys.receiversOn,
      keys.bullKey('set-delivery', 'wait'),
      keys.routerFence(names.login),
    ])
      expect(role(k), k).toBeDefined();
    // Another stream under the prefix (one to list in streams.extra) is not refused.
    expect(role(`${prefix}:okta`)).toBeUndefined();
  });

  it("names an input stream's routed mark (a sorted set: appended to, every routing step failed with WRONGTYPE and no input was routed)", () => {
    expect(role(keys.routedTop(names.login))).toBeDefined();
    expect(role(keys.routedTop(names.activity))).toBeDefined();
  });
});
