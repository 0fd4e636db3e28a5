import { describe, expect, it } from 'vitest';
import { nextPageCommand } from '../../src/cli/common.js';

describe('nextPageCommand: the next page as a command line to run as printed', () => {
  it.each([
    ['no options', 'risk list', 'abc', {}, 'riskstream risk list --cursor abc'],
    [
      'options kept, undefined ones left out',
      'risk list',
      'c1',
      { level: 'high', limit: '1', config: undefined },
      'riskstream risk list --cursor c1 --level high --limit 1',
    ],
    [
      'a path with a space is one shell word',
      'sessions list',
      'c2',
      { config: '/tmp/my conf' },
      "riskstream sessions list --cursor c2 --config '/tmp/my conf'",
    ],
    ['a quote inside a path', 'sessions list', 'c3', { config: "/tmp/it's" }, "riskstream sessions list --cursor c3 --config '/tmp/it'\\''s'"],
  ])('%s', (_name, command, cursor, options, want) => {
    expect(nextPageCommand(command, cursor, options)).toBe(want);
  });
});
