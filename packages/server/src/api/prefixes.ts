/** Every API route is served under both prefixes with the same handlers. */
export const API_PREFIXES = {
  plain: '/v1',
  reference: '/code-assistant-api',
} as const;

export const ROUTE_PREFIXES = [API_PREFIXES.plain, `${API_PREFIXES.reference}${API_PREFIXES.plain}`] as const;
