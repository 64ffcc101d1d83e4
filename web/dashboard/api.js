// The REST API (docs/api.md) as the dashboard uses it: JSON in and out, the session cookie,
// and the CSRF token from login and /me on every POST.

export class ApiError extends Error {
  constructor(status, code, message, retryAfter) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

let csrfToken = '';

async function call(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET') headers['X-CSRF-Token'] = csrfToken;
  let response;
  try {
    response = await fetch(`/api/v1${path}`, {
      method, headers, credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'network', 'askdesk cannot be reached; check the connection.');
  }
  if (response.status === 204) return null;
  let answer = null;
  try {
    answer = await response.json();
  } catch {
    // Not JSON: a proxy's error page, for instance; the status says enough.
  }
  if (!response.ok) {
    const e = answer && answer.error ? answer.error : {};
    throw new ApiError(response.status, e.code || 'http_' + response.status,
      e.message || `askdesk answered ${response.status}`, Number(response.headers.get('Retry-After')) || 0);
  }
  if (answer && typeof answer.csrf_token === 'string') csrfToken = answer.csrf_token;
  return answer;
}

const id = (value) => encodeURIComponent(value);

export const api = {
  me: () => call('GET', '/me'),
  report: (kind, query) => call('GET', `/reports/${kind}?${new URLSearchParams(query)}`),
  login: (username, password) => call('POST', '/login', { username, password }),
  logout: () => call('POST', '/logout'),
  channels: () => call('GET', '/channels'),
  teams: () => call('GET', '/teams'),
  allTeams: () => call('GET', '/teams?all=true'),
  conversations: (query) => call('GET', `/conversations?${new URLSearchParams(query)}`),
  conversation: (conversation) => call('GET', `/conversations/${id(conversation)}`),
  patron: (patron) => call('GET', `/patrons/${id(patron)}`),
  // Another record of the same person, linked with their consent (docs/privacy.md).
  linkPatron: (patron, other, consent) => call('POST', `/patrons/${id(patron)}/links`, { patron: other, consent }),
  unlinkPatron: (patron, other) => call('DELETE', `/patrons/${id(patron)}/links/${id(other)}`),
  claim: (conversation, force = false) =>
    call('POST', `/conversations/${id(conversation)}/claim`, force ? { force: true } : {}),
  reply: (conversation, text) => call('POST', `/conversations/${id(conversation)}/messages`, { text }),
  note: (conversation, text) => call('POST', `/conversations/${id(conversation)}/notes`, { text }),
  close: (conversation, readLevel) => call('POST', `/conversations/${id(conversation)}/close`,
    readLevel ? { read_level: readLevel } : {}),
  topics: () => call('GET', '/topics'),
  setTopic: (conversation, topic) => call('POST', `/conversations/${id(conversation)}/topic`, { topic }),
  accept: (conversation) => call('POST', `/conversations/${id(conversation)}/accept`, {}),
  decline: (conversation) => call('POST', `/conversations/${id(conversation)}/decline`, {}),
  transfer: (conversation, body) => call('POST', `/conversations/${id(conversation)}/transfer`, body),
  myRouting: () => call('GET', '/me/routing'),
  // The supervisor's live view: every team's queue and staff (supervisors and admins).
  desk: () => call('GET', '/desk'),
  // The staff access audit (admins).
  audit: (query) => call('GET', `/audit?${new URLSearchParams(query)}`),
  setPresence: (presence) => call('POST', '/me/presence', { presence }),
  tags: (conversation, add, remove) =>
    call('POST', `/conversations/${id(conversation)}/tags`, { add, remove }),
  // The sends that failed for good (supervisors and admins).
  deadLetters: () => call('GET', '/outbound/dead'),
  retryDead: (letter) => call('POST', `/outbound/dead/${id(letter)}/retry`, {}),
  discardDead: (letter) => call('POST', `/outbound/dead/${id(letter)}/discard`, {}),
  // The social desk: posts in triage ('new'), dismissed, or marked as abuse.
  socialItems: (state, limit = 50) => call('GET', `/social/items?${new URLSearchParams({ state, limit: String(limit) })}`),
  socialReply: (conversation) => call('POST', `/social/items/${id(conversation)}/reply`, {}),
  socialDismiss: (conversation) => call('POST', `/social/items/${id(conversation)}/dismiss`, {}),
  socialAbuse: (conversation) => call('POST', `/social/items/${id(conversation)}/abuse`, {}),
};

// Every page of a list, up to `pages` pages of 200.
export async function allConversations(query, pages = 10) {
  const items = [];
  let cursor = '';
  for (let i = 0; i < pages; i += 1) {
    const page = await api.conversations({ ...query, limit: '200', ...(cursor ? { cursor } : {}) });
    items.push(...page.items);
    if (!page.next_cursor) break;
    cursor = page.next_cursor;
  }
  return items;
}
