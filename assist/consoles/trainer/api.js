// The trainer console's API (/api/pack) and its token; the client is the consoles' shared one.
import { apiClient, storedToken } from '../shared/api.js';

export { ApiError } from '../shared/api.js';
export const token = storedToken('trainer.token');
export const api = apiClient('/api/pack', token);

// Import pack files (YAML, JSONL or a zip of them) into a new draft.
export function upload(files) {
  const form = new FormData();
  for (const f of files) form.append('file', f, f.name);
  return api('POST', '/import', form);
}

export function debounce(fn, ms) {
  let timer = 0;
  return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
}
