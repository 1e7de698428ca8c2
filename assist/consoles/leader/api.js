// The shift-leader console's API (/api/leader) and its token; the client is the consoles' shared one.
import { apiClient, storedToken } from '../shared/api.js';

export { ApiError } from '../shared/api.js';
export const token = storedToken('leader.token');
export const api = apiClient('/api/leader', token);
