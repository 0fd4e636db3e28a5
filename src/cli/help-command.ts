import type { Command } from 'commander';

/** The implicit `help` command commander lists for `cmd`, when it lists one. */
function implicitHelp(cmd: Command): boolean {
  return cmd
    .createHelp()
    .visibleCommands(cmd)
    .some((c) => c.name() === 'help' && !cmd.commands.includes(c));
}

/**
 * Gives `cmd`, and every command under it, a real `help [command...]` subcommand where commander
 * lists its implicit one. The implicit one answers neither its own `--help` (`riskstream help
 * --help`, `riskstream help help`: the program's usage on stderr, exit 1) nor a name it does not
 * know with a message (`riskstream help frobnicate`: usage only, exit 1), and reads one name only.
 * This one prints the help of the command the names lead to (`riskstream help risk list`), exit 0;
 * an unknown name is `error: unknown command '…'`, exit 1, as `riskstream frobnicate` is.
 */
export function addHelpCommands(cmd: Command): void {
  for (const sub of cmd.commands) addHelpCommands(sub);
  if (!implicitHelp(cmd)) return;
  cmd.helpCommand(false);
  cmd
    .command('help')
    .argument('[command...]', 'the command (and subcommands) to describe')
    .description('display help for command')
    .action((names: string[]) => {
      let target = cmd;
      for (const name of names) {
        const next = target.commands.find((c) => c.name() === name || c.aliases().includes(name));
        if (!next) return target.error(`error: unknown command '${name}'`, { code: 'commander.unknownCommand' });
        target = next;
      }
      target.help();
    });
}
