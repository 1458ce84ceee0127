interface Route {
  method: string;
  path: string;
}

/**
 * The methods that the routes of `routes` answer at a path, for the `Allow`
 * header of a 405: a request whose path is a route's but whose method none
 * of them takes is told what it may send instead of being told that nothing
 * is there. Middleware (`ALL`) and wildcard paths are left out; `HEAD` is
 * allowed wherever `GET` is, as Hono answers it. Routes are read at the
 * first call, once every route is registered.
 */
export function allowedMethods(routes: () => readonly Route[]): (path: string) => string[] {
  let patterns: { method: string; pattern: RegExp }[] | undefined;
  return (path) => {
    patterns ??= routes()
      .filter((route) => route.method !== 'ALL' && !route.path.includes('*'))
      .map((route) => ({ method: route.method, pattern: patternOf(route.path) }));
    const methods = new Set(
      patterns.filter(({ pattern }) => pattern.test(path)).map(({ method }) => method),
    );
    if (methods.has('GET')) methods.add('HEAD');
    return [...methods].sort();
  };
}

function patternOf(path: string): RegExp {
  const segments = path
    .split('/')
    .map((segment) =>
      segment.startsWith(':') ? '[^/]+' : segment.replace(/[.+?^${}()|[\]\\]/g, '\\$&'),
    );
  return new RegExp(`^${segments.join('/')}$`);
}
