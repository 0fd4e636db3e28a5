import type { Command } from 'commander';
import type { CommandModule } from '../common.js';
import { sessionsCommand } from './sessions.js';
import { workerCommand } from './worker.js';
import { configCommand } from './config.js';
import { replayCommand } from './replay.js';
import { demoCommand } from './demo.js';
import { riskCommand } from './risk.js';
import { auditCommand } from './audit.js';
import { keysCommand } from './keys.js';
import { addHelpCommands } from '../help-command.js';

const modules: CommandModule[] = [workerCommand, configCommand, replayCommand, demoCommand, riskCommand, auditCommand, keysCommand, sessionsCommand];

/** Registers every command module on the program, and a real `help [command...]` on each group (src/cli/help-command.ts). */
export function registerCommands(program: Command): void {
  for (const m of modules) m(program);
  addHelpCommands(program);
}
