/** The client's URL space (the server serves index.html for each of these paths). */
export type Route =
  | { name: 'home' }
  | { name: 'signin' }
  | { name: 'setup'; token: string }
  | { name: 'invite'; token: string }
  | { name: 'conv'; id: string };

/** Parses a pathname; unknown paths are `home`. */
export function parseRoute(pathname: string): Route {
  const [first, second] = pathname.split('/').filter(Boolean).map(safeDecode);
  if (first === 'signin') return { name: 'signin' };
  if (first === 'setup' && second) return { name: 'setup', token: second };
  if (first === 'invite' && second) return { name: 'invite', token: second };
  if (first === 'c' && second) return { name: 'conv', id: second };
  return { name: 'home' };
}

export function routePath(route: Route): string {
  switch (route.name) {
    case 'home':
      return '/';
    case 'signin':
      return '/signin';
    case 'setup':
      return `/setup/${encodeURIComponent(route.token)}`;
    case 'invite':
      return `/invite/${encodeURIComponent(route.token)}`;
    case 'conv':
      return `/c/${encodeURIComponent(route.id)}`;
  }
}

function safeDecode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}
