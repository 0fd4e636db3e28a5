import { Command, CommanderError } from 'commander';
import { vi } from 'vitest';
import { registerCommands } from '../../src/cli/commands/index.js';
import { scrubCliError } from '../../src/cli/common.js';

/**
 * Runs `riskstream …args` in this process, as src/cli/main.ts would: the program with every
 * command, exits turned into exit codes (commander's help exits 0), output captured.
 */
export async function runInProcess(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const p = new Command('riskstream')
    .version('0.1.0')
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({ writeOut: (s) => void (stdout += s), writeErr: (s) => void (stderr += s) });
  registerCommands(p);
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((stdout += String(chunk)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true));
  const before = process.exitCode;
  process.exitCode = undefined;
  try {
    await p.parseAsync(['node', 'riskstream', ...args]);
    return { code: Number(process.exitCode ?? 0), stdout, stderr };
  } catch (e) {
    if (e instanceof CommanderError) return { code: e.exitCode, stdout, stderr };
    // What main.ts does with any other error.
    return { code: 1, stdout, stderr: `${stderr}riskstream: ${scrubCliError((e as Error).message)}\n` };
  } finally {
    out.mockRestore();
    err.mockRestore();
    process.exitCode = before;
  }
}
