import { describe, expect, it } from 'vitest';
import { RouteMethods } from '../../src/api/route-methods.js';

describe('RouteMethods', () => {
  const r = new RouteMethods();
  r.add('/v1/users/:user/risk', ['GET', 'HEAD']);
  r.add('/v1/users/:user/risk/reset', 'POST');
  r.add('/ssf/subjects::add', 'POST');
  r.add('/v1/sessions/:id', 'GET');
  r.add('/v1/sessions/:id', 'delete');
  r.add('/files/*', 'GET');

  it.each<[string, string[]]>([
    ['/v1/users/alice%40example.com/risk', ['GET', 'HEAD']],
    ['/v1/users/alice%40example.com/risk/', ['GET', 'HEAD']],
    ['/v1/users/alice%40example.com/risk/reset', ['POST']],
    ['/v1/users//risk', []],
    ['/v1/users/a/b/risk', []],
    ['/ssf/subjects:add', ['POST']],
    ['/ssf/subjectsXadd', []],
    ['/v1/sessions/s-1', ['DELETE', 'GET']],
    ['/files/a/b.txt', ['GET']],
    ['/nothing', []],
  ])('%s → %j', (path, want) => {
    expect(r.allowed(path)).toEqual(want);
  });
});
