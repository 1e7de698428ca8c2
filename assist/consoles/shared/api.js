// The consoles' HTTP API client: a bearer token kept in sessionStorage; an error carries the status and
// the server's code, message and details. Each console makes its own (consoles/<name>/api.js).

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message || `HTTP ${status}`);
    this.status = status;
    this.code = body?.error?.code;
    this.details = body?.error?.details;
  }
}

// The token under `key` in sessionStorage: one per console, so a leader and a trainer tab do not mix.
export function storedToken(key) {
  return {
    get: () => sessionStorage.getItem(key),
    set: (value) => sessionStorage.setItem(key, value),
    clear: () => sessionStorage.removeItem(key),
  };
}

// api(method, path, body) for the API under `base`: `body` goes as JSON (a FormData as it is); the answer is
// JSON, or a Blob for a download. A status other than 2xx throws ApiError.
export function apiClient(base, token) {
  return async function api(method, path, body) {
    const headers = { Authorization: `Bearer ${token.get() || ''}` };
    const init = { method, headers };
    if (body instanceof FormData) {
      init.body = body;
    } else if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const res = await fetch(`${base}${path}`, init);
    const data = res.headers.get('Content-Type')?.includes('json') ? await res.json().catch(() => ({})) : await res.blob();
    if (!res.ok) throw new ApiError(res.status, data);
    return data;
  };
}
