import type { Command } from 'commander';

/** A CLI command module. */
export type CommandModule = (program: Command) => void;

const modules: CommandModule[] = [];

/** Registers every command module on the program. */
export function registerCommands(program: Command): void {
  for (const m of modules) m(program);
}
