import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** riskstream's Prometheus metrics, on a registry of its own (several workers per process in tests). */
export class Metrics {
  readonly registry = new Registry();
  readonly eventsRead = new Counter({ name: 'riskstream_events_read_total', help: 'Input entries read', labelNames: ['stream'], registers: [this.registry] });
  readonly eventsProcessed = new Counter({
    name: 'riskstream_events_processed_total',
    help: 'Input entries applied to user state',
    registers: [this.registry],
  });
  readonly eventsSkipped = new Counter({
    name: 'riskstream_events_skipped_total',
    help: 'Replayed entries skipped as already applied',
    registers: [this.registry],
  });
  readonly deadLettered = new Counter({
    name: 'riskstream_events_dead_lettered_total',
    help: 'Entries sent to the dead-letter stream',
    labelNames: ['stream'],
    registers: [this.registry],
  });
  readonly eventsCoerced = new Counter({
    name: 'riskstream_events_coerced_total',
    help: 'Events accepted with a value taken as absent (reason: geo_coordinates_out_of_range, geo_accuracy_out_of_range)',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly batchSeconds = new Histogram({
    name: 'riskstream_batch_duration_seconds',
    help: 'Time to decode, score, commit and ack one batch',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly behaviorHits = new Counter({
    name: 'riskstream_behavior_hits_total',
    help: 'Behavior detections',
    labelNames: ['behavior'],
    registers: [this.registry],
  });
  readonly hitsExpiredOnArrival = new Counter({
    name: 'riskstream_hits_expired_on_arrival_total',
    help: 'Behavior detections already expired when they arrived (a backfill): recorded, no level change',
    labelNames: ['behavior'],
    registers: [this.registry],
  });
  readonly riskChanges = new Counter({
    name: 'riskstream_risk_changes_total',
    help: 'User risk level changes',
    labelNames: ['level', 'initiator'],
    registers: [this.registry],
  });
  readonly commitConflicts = new Counter({
    name: 'riskstream_commit_conflicts_total',
    help: 'Optimistic commit conflicts (retried)',
    registers: [this.registry],
  });
  readonly deliveries = new Counter({
    name: 'riskstream_set_deliveries_total',
    help: 'SET delivery attempts by receiver and outcome',
    labelNames: ['receiver', 'outcome'],
    registers: [this.registry],
  });
  readonly consumerLag = new Gauge({
    name: 'riskstream_consumer_lag',
    help: 'Entries not yet delivered to the consumer group',
    labelNames: ['stream'],
    registers: [this.registry],
  });
  readonly pending = new Gauge({
    name: 'riskstream_pending_entries',
    help: 'Entries delivered but not acked',
    labelNames: ['stream'],
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({
    name: 'riskstream_delivery_queue_depth',
    help: 'SET delivery jobs by state',
    labelNames: ['state'],
    registers: [this.registry],
  });
  readonly poisoned = new Counter({
    name: 'riskstream_events_poisoned_total',
    help: 'Entries dead-lettered because processing them failed (processing_failed: <code>)',
    labelNames: ['stream', 'code'],
    registers: [this.registry],
  });
  readonly partitionsOwned = new Gauge({
    name: 'riskstream_engine_partitions_owned',
    help: 'Partitions this worker owns (holds the lease of)',
    registers: [this.registry],
  });
  readonly pipelineStalled = new Gauge({
    name: 'riskstream_pipeline_stalled',
    help: '1 while a stage of the pipeline (router, partitions) has had input waiting without progress for ingest.stall_after (read from Redis: every worker reports the same)',
    labelNames: ['stage'],
    registers: [this.registry],
  });
  readonly pipelineStalledSeconds = new Gauge({
    name: 'riskstream_pipeline_stalled_seconds',
    help: 'How long the stalled stage has waited without progress (0 when not stalled)',
    labelNames: ['stage'],
    registers: [this.registry],
  });
  readonly stalledPartitions = new Gauge({
    name: 'riskstream_pipeline_stalled_partitions',
    help: 'Partitions with routed entries waiting and no commit for ingest.stall_after',
    registers: [this.registry],
  });
  readonly pipelineStalls = new Counter({
    name: 'riskstream_pipeline_stalls_total',
    help: 'Times this worker saw a stage of the pipeline become stalled',
    labelNames: ['stage'],
    registers: [this.registry],
  });
  readonly routerOwned = new Gauge({ name: 'riskstream_engine_router_owned', help: '1 while this worker routes the input', registers: [this.registry] });
  readonly commits = new Counter({
    name: 'riskstream_engine_commits_total',
    help: 'Partition commits (one atomic, lease-fenced write of states, outputs and input position)',
    registers: [this.registry],
  });
  readonly configReloads = new Counter({
    name: 'riskstream_config_reloads_total',
    help: 'Configuration reloads (SIGHUP): applied, refused (the running configuration kept), or failed part-way',
    labelNames: ['result'],
    registers: [this.registry],
  });
  readonly fenced = new Counter({
    name: 'riskstream_engine_fenced_total',
    help: 'Partition commits refused because the lease had moved (the work is redone by the new owner)',
    registers: [this.registry],
  });
  readonly usersForgotten = new Counter({
    name: 'riskstream_users_forgotten_total',
    help: 'Idle users forgotten (state.idle_user_ttl): state and index entries deleted by their partition commit',
    registers: [this.registry],
  });
  readonly routedPresent = new Counter({
    name: 'riskstream_engine_routed_present_total',
    help: 'Partition entries the router found written already (re-deliveries after a crash or a rewound group; input XADDed with explicit ids below what was routed)',
    registers: [this.registry],
  });
  readonly derivedDropped = new Counter({
    name: 'riskstream_engine_derived_dropped_total',
    help: 'Events derived at the edge (password_spray victims) not routed: more than 15 of one input entry in one partition',
    registers: [this.registry],
  });
  readonly routed = new Counter({ name: 'riskstream_engine_routed_total', help: 'Input entries routed to partition streams', registers: [this.registry] });
  readonly pipelineErrors = new Counter({ name: 'riskstream_pipeline_errors_total', help: 'Batches that failed and were retried', registers: [this.registry] });
  readonly ingested = new Counter({
    name: 'riskstream_http_ingested_total',
    help: 'Events received on POST /v1/events',
    labelNames: ['result'],
    registers: [this.registry],
  });

  readonly authFailures = new Counter({
    name: 'riskstream_api_auth_failures_total',
    help: 'API requests that failed authentication: missing (no bearer token), invalid (an unknown token), forbidden (a valid token without the scope)',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly authBlocks = new Counter({
    name: 'riskstream_api_auth_blocks_total',
    help: 'Times a client address was refused for http.auth_failures.block after http.auth_failures.limit unknown tokens',
    registers: [this.registry],
  });
  readonly authThrottled = new Counter({
    name: 'riskstream_api_auth_throttled_total',
    help: 'API requests answered 429 auth_throttled (their address refused; the token not checked)',
    registers: [this.registry],
  });

  readonly bridgeMoved = new Counter({
    name: 'riskstream_bridge_moved_total',
    help: 'Items the list bridge moved from a list (bridge.lists) into its stream',
    labelNames: ['list'],
    registers: [this.registry],
  });
  readonly bridgeBacklog = new Gauge({
    name: 'riskstream_bridge_backlog',
    help: "Items left in a bridged list after this worker's last move from it",
    labelNames: ['list'],
    registers: [this.registry],
  });
  readonly bridgeFailures = new Counter({
    name: 'riskstream_bridge_failures_total',
    help: 'List bridge moves that failed (the list or its stream a key of another type, Redis unreachable): the items wait in the list',
    labelNames: ['list'],
    registers: [this.registry],
  });

  constructor(defaults = true) {
    if (defaults) collectDefaultMetrics({ register: this.registry, prefix: 'riskstream_' });
  }

  /**
   * Drops the delivery series of receivers no longer configured or registered (a deleted SSF
   * stream's): any ssf token holder could otherwise grow the exposition without bound.
   */
  async pruneReceivers(live: ReadonlySet<string>): Promise<number> {
    const { values } = await this.deliveries.get();
    let n = 0;
    for (const v of values) {
      const receiver = v.labels.receiver;
      if (typeof receiver !== 'string' || live.has(receiver)) continue;
      this.deliveries.remove(v.labels);
      n++;
    }
    return n;
  }

  /** Exposition text. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
