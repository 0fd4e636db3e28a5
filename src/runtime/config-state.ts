/**
 * Whether the worker runs the configuration its files last gave, for `/readyz`'s `config` check: a
 * reload refused (or failing part-way) leaves it on an older one until a reload applies. Only
 * when and how, never the issues themselves: `/readyz` is public, and the log and the audit
 * entry `config.reload_refused` hold them.
 */
export class ConfigState {
  private problem: string | undefined;
  private appliedAt: number;

  constructor(now: number) {
    this.appliedAt = now;
  }

  /** A reload applied whole at `now`. */
  applied(now: number): void {
    this.appliedAt = now;
    this.problem = undefined;
  }

  /** A reload at `now` did not apply: refused whole, or (`partly`) failed after part of it applied. */
  failed(now: number, partly: boolean): void {
    const at = new Date(now).toISOString();
    const since = new Date(this.appliedAt).toISOString();
    this.problem = partly
      ? `the reload at ${at} failed part-way: the configuration in force is partly that of the files (the log and the audit log say what failed); reload again`
      : `the reload at ${at} was refused: running the configuration applied at ${since} (the log and \`riskstream audit tail --action config\` say why)`;
  }

  /** Undefined while the configuration in force is the one the last reload (or the start) gave. */
  reason(): string | undefined {
    return this.problem;
  }
}
