import type { RouteModule } from '../server.js';
import type { UsersTable as UsersTableReader } from '../../risk/users-table.js';
import type { UsersTable } from '../views/console.js';
import { intParam, levelParam } from '../params.js';

type Query = { level?: string; behavior?: string; q?: string; cursor?: string; limit?: string };

/**
 * `GET /v1/console/users?level=&behavior=&q=&cursor=&limit=` (admin): users by level (high
 * first) with their active behaviors, filtered by level, behavior id and a user substring; the
 * level counts. Read through the risk store (src/risk/users-table.ts).
 */
export const consoleUsersRoutes =
  (deps: { users: UsersTableReader }): RouteModule =>
  (app) => {
    app.get<{ Querystring: Query }>('/v1/console/users', async (req): Promise<UsersTable> => {
      const q = req.query;
      const limit = intParam(q.limit, 'limit', 50, 500);
      const level = levelParam(q.level);
      return deps.users.page({
        limit,
        ...(level ? { level } : {}),
        ...(q.behavior !== undefined ? { behavior: q.behavior } : {}),
        ...(q.q !== undefined ? { needle: q.q } : {}),
        ...(q.cursor ? { cursor: q.cursor } : {}),
      });
    });
  };
